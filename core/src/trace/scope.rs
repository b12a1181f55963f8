//! Instrumentation scopes, registered once per pipeline and named by index afterwards.

use opentelemetry::InstrumentationScope;

/// The instrumentation scopes of a pipeline, deduplicated and never removed, so a queued span
/// can name its scope by index instead of holding a reference count that the producing thread
/// and the export thread would both touch.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    list: parking_lot::RwLock<Vec<InstrumentationScope>>,
}

impl Scopes {
    /// The index of `scope`, registering it when new.
    pub(crate) fn intern(&self, scope: InstrumentationScope) -> u32 {
        if let Some(i) = self.list.read().iter().position(|s| *s == scope) {
            return i as u32;
        }
        let mut list = self.list.write();
        if let Some(i) = list.iter().position(|s| *s == scope) {
            return i as u32;
        }
        list.push(scope);
        (list.len() - 1) as u32
    }

    /// A copy of scopes `from..` (the export thread keeps a local cache).
    pub(crate) fn since(&self, from: usize) -> Vec<InstrumentationScope> {
        self.list
            .read()
            .get(from..)
            .map(|s| s.to_vec())
            .unwrap_or_default()
    }
}

/// An export thread's own view of a pipeline's scopes, each made once into the form that
/// thread sends (`T`: the SDK's scope, an encoded protobuf message). Filled from the shared
/// [`Scopes`] as new indices appear, so the thread touches the shared lock only then.
pub(crate) struct ScopeCache<T> {
    source: std::sync::Arc<Scopes>,
    items: Vec<T>,
    make: fn(&InstrumentationScope) -> T,
}

impl<T> ScopeCache<T> {
    pub(crate) fn new(
        source: std::sync::Arc<Scopes>,
        make: fn(&InstrumentationScope) -> T,
    ) -> Self {
        ScopeCache {
            source,
            items: Vec::new(),
            make,
        }
    }

    /// Makes sure scope `i` is cached (an index never registered, which cannot happen, gets
    /// the default scope) and returns it.
    #[inline]
    pub(crate) fn get(&mut self, i: u32) -> &T {
        let i = i as usize;
        if i >= self.items.len() {
            self.fill(i);
        }
        &self.items[i]
    }

    #[cold]
    fn fill(&mut self, i: usize) {
        let more = self.source.since(self.items.len());
        self.items.extend(more.iter().map(self.make));
        while self.items.len() <= i {
            self.items
                .push((self.make)(&InstrumentationScope::default()));
        }
    }

    /// The scopes cached so far, by index.
    pub(crate) fn cached(&self) -> &[T] {
        &self.items
    }
}
