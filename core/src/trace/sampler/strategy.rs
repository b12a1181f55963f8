//! Jaeger sampling strategies as the remote-sampling API serves them, read from either wire
//! form into one checked [`Strategy`]:
//!
//! * gRPC (`jaeger.api_v2.SamplingManager/GetSamplingStrategy`): protobuf, decoded with the
//!   hand-written prost messages of [`proto`] (the messages of Jaeger's `sampling.proto`);
//! * HTTP (`GET <endpoint>?service=NAME`): JSON, in both encodings Jaeger has served — the
//!   legacy Thrift form (`"strategyType": 0`, what Jaeger v2's `remote_sampling` extension
//!   answers) and the protobuf JSON form (`"strategyType": "PROBABILISTIC"`, fields with
//!   default values left out). Keys in camelCase or snake_case.
//!
//! A response is taken whole or not at all: anything malformed (not JSON or protobuf, a
//! probability outside [0, 1], a negative or non-numeric rate, an operation without a name or
//! without its probability, no strategy at all) is an error, and the sampler keeps the
//! strategy it has. Which strategy a response carries follows Jaeger's clients: per-operation
//! when `operationSampling` is present, else the type's `probabilisticSampling` or
//! `rateLimitingSampling`.

use serde_json::Value as Json;

/// Most operations a per-operation strategy keeps, the first ones listed (Jaeger's clients
/// track at most 2,000 operations); further ones get the default probability.
pub(crate) const MAX_OPERATIONS: usize = 2000;

/// A sampling strategy for this service.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Strategy {
    /// Every new trace with this probability.
    Probabilistic(f64),
    /// At most this many new traces per second.
    RateLimiting(f64),
    /// A probability per operation (span name), the default for the others, and a lower
    /// bound of traces per second for every operation.
    PerOperation(PerOperation),
}

/// The per-operation strategy (`operationSampling`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PerOperation {
    /// `defaultSamplingProbability`: operations not listed.
    pub default_rate: f64,
    /// `defaultLowerBoundTracesPerSecond`: each operation is sampled at least this often,
    /// whatever its probability ("guaranteed throughput").
    pub lower_bound: f64,
    /// `perOperationStrategies`: (operation, probability), first occurrence of each name.
    pub operations: Vec<(String, f64)>,
}

/// The messages of Jaeger's `jaeger/api_v2/sampling.proto`, written out by hand (five small
/// messages do not justify a build-time code generator).
pub(crate) mod proto {
    /// `SamplingStrategyParameters`: the request.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SamplingStrategyParameters {
        /// `serviceName`
        #[prost(string, tag = "1")]
        pub service_name: String,
    }

    /// `ProbabilisticSamplingStrategy`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ProbabilisticSamplingStrategy {
        /// `samplingRate`
        #[prost(double, tag = "1")]
        pub sampling_rate: f64,
    }

    /// `RateLimitingSamplingStrategy`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RateLimitingSamplingStrategy {
        /// `maxTracesPerSecond`
        #[prost(int32, tag = "1")]
        pub max_traces_per_second: i32,
    }

    /// `OperationSamplingStrategy`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct OperationSamplingStrategy {
        /// `operation`
        #[prost(string, tag = "1")]
        pub operation: String,
        /// `probabilisticSampling`
        #[prost(message, optional, tag = "2")]
        pub probabilistic_sampling: Option<ProbabilisticSamplingStrategy>,
    }

    /// `PerOperationSamplingStrategies`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PerOperationSamplingStrategies {
        /// `defaultSamplingProbability`
        #[prost(double, tag = "1")]
        pub default_sampling_probability: f64,
        /// `defaultLowerBoundTracesPerSecond`
        #[prost(double, tag = "2")]
        pub default_lower_bound_traces_per_second: f64,
        /// `perOperationStrategies`
        #[prost(message, repeated, tag = "3")]
        pub per_operation_strategies: Vec<OperationSamplingStrategy>,
        /// `defaultUpperBoundTracesPerSecond` (not used by Jaeger's clients either)
        #[prost(double, tag = "4")]
        pub default_upper_bound_traces_per_second: f64,
    }

    /// `SamplingStrategyResponse`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SamplingStrategyResponse {
        /// `strategyType`: 0 `PROBABILISTIC`, 1 `RATE_LIMITING`
        #[prost(int32, tag = "1")]
        pub strategy_type: i32,
        /// `probabilisticSampling`
        #[prost(message, optional, tag = "2")]
        pub probabilistic_sampling: Option<ProbabilisticSamplingStrategy>,
        /// `rateLimitingSampling`
        #[prost(message, optional, tag = "3")]
        pub rate_limiting_sampling: Option<RateLimitingSamplingStrategy>,
        /// `operationSampling`
        #[prost(message, optional, tag = "4")]
        pub operation_sampling: Option<PerOperationSamplingStrategies>,
    }
}

const PROBABILISTIC: i32 = 0;
const RATE_LIMITING: i32 = 1;

/// The request body of the gRPC call for `service`.
pub(crate) fn grpc_request(service: &str) -> Vec<u8> {
    use prost::Message as _;
    proto::SamplingStrategyParameters {
        service_name: service.to_string(),
    }
    .encode_to_vec()
}

impl Strategy {
    /// Reads a gRPC response (protobuf).
    pub(crate) fn from_proto(bytes: &[u8]) -> Result<Strategy, String> {
        use prost::Message as _;
        let r = proto::SamplingStrategyResponse::decode(bytes)
            .map_err(|e| format!("not a SamplingStrategyResponse: {e}"))?;
        Strategy::from_response(r)
    }

    /// Reads an HTTP response body (JSON).
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Strategy, String> {
        let v: Json = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        Strategy::from_response(json::response(&v)?)
    }

    fn from_response(r: proto::SamplingStrategyResponse) -> Result<Strategy, String> {
        if let Some(ops) = r.operation_sampling {
            let default_rate = probability(
                "defaultSamplingProbability",
                ops.default_sampling_probability,
            )?;
            let lower_bound = rate(
                "defaultLowerBoundTracesPerSecond",
                ops.default_lower_bound_traces_per_second,
            )?;
            let mut operations: Vec<(String, f64)> = Vec::new();
            for op in ops.per_operation_strategies {
                if op.operation.is_empty() {
                    return Err("an entry of perOperationStrategies has no operation".to_string());
                }
                let Some(p) = op.probabilistic_sampling else {
                    return Err(format!(
                        "operation {:?} has no probabilisticSampling",
                        op.operation
                    ));
                };
                let p = probability(&op.operation, p.sampling_rate)?;
                if operations.len() < MAX_OPERATIONS
                    && !operations.iter().any(|(name, _)| *name == op.operation)
                {
                    operations.push((op.operation, p));
                }
            }
            return Ok(Strategy::PerOperation(PerOperation {
                default_rate,
                lower_bound,
                operations,
            }));
        }
        match r.strategy_type {
            PROBABILISTIC => match r.probabilistic_sampling {
                Some(p) => Ok(Strategy::Probabilistic(probability(
                    "samplingRate",
                    p.sampling_rate,
                )?)),
                None => Err("a PROBABILISTIC strategy without probabilisticSampling".to_string()),
            },
            RATE_LIMITING => match r.rate_limiting_sampling {
                Some(l) if l.max_traces_per_second >= 0 => {
                    Ok(Strategy::RateLimiting(f64::from(l.max_traces_per_second)))
                }
                Some(l) => Err(format!(
                    "maxTracesPerSecond is negative ({})",
                    l.max_traces_per_second
                )),
                None => Err("a RATE_LIMITING strategy without rateLimitingSampling".to_string()),
            },
            other => Err(format!("unknown strategyType {other}")),
        }
    }
}

/// A probability: a finite number in [0, 1].
fn probability(what: &str, p: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("the probability of {what} is {p}, not in [0, 1]"))
    }
}

/// A rate: a finite number ≥ 0.
fn rate(what: &str, r: f64) -> Result<f64, String> {
    if r.is_finite() && r >= 0.0 {
        Ok(r)
    } else {
        Err(format!("{what} is {r}, not a finite number ≥ 0"))
    }
}

/// JSON into the protobuf messages, so both wire forms share one set of checks.
mod json {
    use super::proto::*;
    use super::{Json, PROBABILISTIC, RATE_LIMITING};

    /// A field by its camelCase or snake_case name; `null` counts as absent.
    fn field<'a>(obj: &'a Json, camel: &str, snake: &str) -> Option<&'a Json> {
        obj.get(camel)
            .or_else(|| obj.get(snake))
            .filter(|v| !v.is_null())
    }

    fn object<'a>(v: &'a Json, what: &str) -> Result<&'a Json, String> {
        if v.is_object() {
            Ok(v)
        } else {
            Err(format!("{what} is not an object"))
        }
    }

    /// A number field; absent means 0, as in protobuf JSON (which leaves defaults out).
    fn number(obj: &Json, camel: &str, snake: &str) -> Result<f64, String> {
        match field(obj, camel, snake) {
            None => Ok(0.0),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| format!("{camel} is not a number: {v}")),
        }
    }

    pub(super) fn response(v: &Json) -> Result<SamplingStrategyResponse, String> {
        let v = object(v, "the response")?;
        let strategy_type = match field(v, "strategyType", "strategy_type") {
            None => PROBABILISTIC,
            Some(t) => match (t.as_i64(), t.as_str()) {
                (Some(n), _) => {
                    i32::try_from(n).map_err(|_| format!("unknown strategyType {n}"))?
                }
                (_, Some(s)) if s.eq_ignore_ascii_case("PROBABILISTIC") => PROBABILISTIC,
                (_, Some(s)) if s.eq_ignore_ascii_case("RATE_LIMITING") => RATE_LIMITING,
                _ => return Err(format!("unknown strategyType {t}")),
            },
        };
        let probabilistic_sampling = field(v, "probabilisticSampling", "probabilistic_sampling")
            .map(probabilistic)
            .transpose()?;
        let rate_limiting_sampling =
            match field(v, "rateLimitingSampling", "rate_limiting_sampling") {
                None => None,
                Some(r) => {
                    let r = object(r, "rateLimitingSampling")?;
                    let n = number(r, "maxTracesPerSecond", "max_traces_per_second")?;
                    if n.fract() != 0.0 || n < f64::from(i32::MIN) || n > f64::from(i32::MAX) {
                        return Err(format!("maxTracesPerSecond {n} is not a 32-bit integer"));
                    }
                    Some(RateLimitingSamplingStrategy {
                        // Integral and within i32 (checked above).
                        max_traces_per_second: n as i32,
                    })
                }
            };
        let operation_sampling = field(v, "operationSampling", "operation_sampling")
            .map(per_operation)
            .transpose()?;
        Ok(SamplingStrategyResponse {
            strategy_type,
            probabilistic_sampling,
            rate_limiting_sampling,
            operation_sampling,
        })
    }

    fn probabilistic(v: &Json) -> Result<ProbabilisticSamplingStrategy, String> {
        let v = object(v, "probabilisticSampling")?;
        Ok(ProbabilisticSamplingStrategy {
            sampling_rate: number(v, "samplingRate", "sampling_rate")?,
        })
    }

    fn per_operation(v: &Json) -> Result<PerOperationSamplingStrategies, String> {
        let v = object(v, "operationSampling")?;
        let mut ops = Vec::new();
        if let Some(list) = field(v, "perOperationStrategies", "per_operation_strategies") {
            let list = list
                .as_array()
                .ok_or("perOperationStrategies is not a list")?;
            for op in list {
                let op = object(op, "an entry of perOperationStrategies")?;
                let operation = match field(op, "operation", "operation") {
                    None => String::new(),
                    Some(name) => name
                        .as_str()
                        .ok_or_else(|| format!("an operation name is not a string: {name}"))?
                        .to_string(),
                };
                let probabilistic_sampling =
                    field(op, "probabilisticSampling", "probabilistic_sampling")
                        .map(probabilistic)
                        .transpose()?;
                ops.push(OperationSamplingStrategy {
                    operation,
                    probabilistic_sampling,
                });
            }
        }
        Ok(PerOperationSamplingStrategies {
            default_sampling_probability: number(
                v,
                "defaultSamplingProbability",
                "default_sampling_probability",
            )?,
            default_lower_bound_traces_per_second: number(
                v,
                "defaultLowerBoundTracesPerSecond",
                "default_lower_bound_traces_per_second",
            )?,
            per_operation_strategies: ops,
            default_upper_bound_traces_per_second: number(
                v,
                "defaultUpperBoundTracesPerSecond",
                "default_upper_bound_traces_per_second",
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn json(s: &str) -> Result<Strategy, String> {
        Strategy::from_json(s.as_bytes())
    }

    #[test]
    fn legacy_thrift_json_as_jaeger_v2_serves_it() {
        assert_eq!(
            json(r#"{"strategyType":0,"probabilisticSampling":{"samplingRate":0.25}}"#),
            Ok(Strategy::Probabilistic(0.25))
        );
        assert_eq!(
            json(r#"{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":7}}"#),
            Ok(Strategy::RateLimiting(7.0))
        );
        // Adaptive's answer: probabilistic type, no probabilisticSampling, operationSampling.
        let adaptive = r#"{"strategyType":0,"operationSampling":{
            "defaultSamplingProbability":0.001,
            "defaultLowerBoundTracesPerSecond":0.016666666666666666,
            "perOperationStrategies":[
                {"operation":"busy","probabilisticSampling":{"samplingRate":0.004}},
                {"operation":"quiet","probabilisticSampling":{"samplingRate":1}}]}}"#;
        assert_eq!(
            json(adaptive),
            Ok(Strategy::PerOperation(PerOperation {
                default_rate: 0.001,
                lower_bound: 1.0 / 60.0,
                operations: vec![("busy".into(), 0.004), ("quiet".into(), 1.0)],
            }))
        );
    }

    #[test]
    fn protobuf_json_with_defaults_left_out_and_snake_case() {
        // protojson leaves out strategyType 0 and a samplingRate of 0.
        assert_eq!(
            json(r#"{"probabilisticSampling":{}}"#),
            Ok(Strategy::Probabilistic(0.0))
        );
        assert_eq!(
            json(
                r#"{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":3}}"#
            ),
            Ok(Strategy::RateLimiting(3.0))
        );
        assert_eq!(
            json(
                r#"{"strategy_type":"PROBABILISTIC","probabilistic_sampling":{"sampling_rate":0.5},
                    "rate_limiting_sampling":null}"#
            ),
            Ok(Strategy::Probabilistic(0.5))
        );
        assert_eq!(
            json(
                r#"{"operation_sampling":{"per_operation_strategies":[
                {"operation":"a","probabilistic_sampling":{"sampling_rate":0.5}},
                {"operation":"a","probabilistic_sampling":{"sampling_rate":0.9}}]}}"#
            ),
            Ok(Strategy::PerOperation(PerOperation {
                default_rate: 0.0,
                lower_bound: 0.0,
                operations: vec![("a".into(), 0.5)],
            })),
            "missing defaults are 0; the first of duplicated operations wins"
        );
    }

    #[test]
    fn malformed_json_and_missing_fields_are_errors() {
        for bad in [
            "",
            "not json",
            "[]",
            "null",
            "{",
            "{}",
            r#"{"strategyType":0}"#,
            r#"{"strategyType":1}"#,
            r#"{"strategyType":1,"probabilisticSampling":{"samplingRate":0.5}}"#,
            r#"{"strategyType":7,"probabilisticSampling":{"samplingRate":0.5}}"#,
            r#"{"strategyType":"ADAPTIVE","probabilisticSampling":{"samplingRate":0.5}}"#,
            r#"{"strategyType":true,"probabilisticSampling":{"samplingRate":0.5}}"#,
            r#"{"probabilisticSampling":{"samplingRate":"0.5"}}"#,
            r#"{"probabilisticSampling":0.5}"#,
            r#"{"operationSampling":{"perOperationStrategies":[{"probabilisticSampling":{"samplingRate":1}}]}}"#,
            r#"{"operationSampling":{"perOperationStrategies":[{"operation":"x"}]}}"#,
            r#"{"operationSampling":{"perOperationStrategies":[{"operation":5,"probabilisticSampling":{}}]}}"#,
            r#"{"operationSampling":{"perOperationStrategies":{"operation":"x"}}}"#,
            r#"{"operationSampling":[]}"#,
        ] {
            assert!(json(bad).is_err(), "{bad:?} was accepted: {:?}", json(bad));
        }
    }

    #[test]
    fn huge_negative_and_out_of_range_numbers_are_errors() {
        for bad in [
            r#"{"probabilisticSampling":{"samplingRate":1.0000001}}"#,
            r#"{"probabilisticSampling":{"samplingRate":-0.1}}"#,
            r#"{"probabilisticSampling":{"samplingRate":1e308}}"#,
            r#"{"probabilisticSampling":{"samplingRate":1e999}}"#,
            r#"{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":-1}}"#,
            r#"{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":1e300}}"#,
            r#"{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":2.5}}"#,
            r#"{"strategyType":99999999999,"probabilisticSampling":{"samplingRate":0.5}}"#,
            r#"{"operationSampling":{"defaultSamplingProbability":2}}"#,
            r#"{"operationSampling":{"defaultLowerBoundTracesPerSecond":-1}}"#,
            r#"{"operationSampling":{"defaultLowerBoundTracesPerSecond":1e400}}"#,
            r#"{"operationSampling":{"perOperationStrategies":[{"operation":"x","probabilisticSampling":{"samplingRate":3}}]}}"#,
        ] {
            assert!(json(bad).is_err(), "{bad:?} was accepted: {:?}", json(bad));
        }
        // Large but valid values are taken as they are.
        assert_eq!(
            json(r#"{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":2147483647}}"#),
            Ok(Strategy::RateLimiting(2_147_483_647.0))
        );
        assert_eq!(
            json(r#"{"operationSampling":{"defaultLowerBoundTracesPerSecond":1e300}}"#),
            Ok(Strategy::PerOperation(PerOperation {
                default_rate: 0.0,
                lower_bound: 1e300,
                operations: vec![],
            }))
        );
    }

    #[test]
    fn at_most_max_operations_are_kept() {
        let ops: Vec<String> = (0..MAX_OPERATIONS + 10)
            .map(|i| {
                format!(r#"{{"operation":"op{i}","probabilisticSampling":{{"samplingRate":0.5}}}}"#)
            })
            .collect();
        let body = format!(
            r#"{{"operationSampling":{{"perOperationStrategies":[{}]}}}}"#,
            ops.join(",")
        );
        let Ok(Strategy::PerOperation(p)) = json(&body) else {
            panic!("not per-operation")
        };
        assert_eq!(p.operations.len(), MAX_OPERATIONS);
        assert_eq!(p.operations[0].0, "op0");
    }

    #[test]
    fn protobuf_round_trip_and_garbage() {
        let r = proto::SamplingStrategyResponse {
            strategy_type: PROBABILISTIC,
            probabilistic_sampling: None,
            rate_limiting_sampling: None,
            operation_sampling: Some(proto::PerOperationSamplingStrategies {
                default_sampling_probability: 0.5,
                default_lower_bound_traces_per_second: 2.0,
                per_operation_strategies: vec![proto::OperationSamplingStrategy {
                    operation: "GET /".into(),
                    probabilistic_sampling: Some(proto::ProbabilisticSamplingStrategy {
                        sampling_rate: 0.125,
                    }),
                }],
                default_upper_bound_traces_per_second: 0.0,
            }),
        };
        assert_eq!(
            Strategy::from_proto(&r.encode_to_vec()),
            Ok(Strategy::PerOperation(PerOperation {
                default_rate: 0.5,
                lower_bound: 2.0,
                operations: vec![("GET /".into(), 0.125)],
            }))
        );
        let rl = proto::SamplingStrategyResponse {
            strategy_type: RATE_LIMITING,
            rate_limiting_sampling: Some(proto::RateLimitingSamplingStrategy {
                max_traces_per_second: -3,
            }),
            ..Default::default()
        };
        assert!(Strategy::from_proto(&rl.encode_to_vec()).is_err());
        // An empty message is a probabilistic type without its strategy.
        assert!(Strategy::from_proto(&[]).is_err());
        assert!(Strategy::from_proto(&[0xff, 0xff, 0xff]).is_err());
        // The request carries the service name in field 1.
        assert_eq!(grpc_request("svc"), vec![0x0a, 3, b's', b'v', b'c']);
    }
}
