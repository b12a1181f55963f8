package io.polytrace;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Loads the native library the JAR carries under {@code native/<os>-<arch>/}: it is copied to a
 * private temporary directory (owner-only permissions) and {@code System.load}ed from there.
 * The system property {@code polytrace.native.path} names a library file to load instead (for
 * development). With no library for the platform, loading fails with an {@link
 * UnsatisfiedLinkError} that names the platform and the ones the JAR carries.
 */
final class NativeLoader {
  private NativeLoader() {}

  /** The library's name in the JAR and on disk, e.g. {@code libpolytrace_jni.so}. */
  static final String FILE = System.mapLibraryName("polytrace_jni");

  static synchronized void load() {
    String explicit = System.getProperty("polytrace.native.path");
    if (explicit != null && !explicit.isEmpty()) {
      System.load(Path.of(explicit).toAbsolutePath().toString());
      return;
    }
    String platform = platform();
    String resource = "/native/" + platform + "/" + FILE;
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError(missing(platform));
      }
      Path dir;
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        dir =
            Files.createTempDirectory(
                "polytrace-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        dir = Files.createTempDirectory("polytrace-");
      }
      Path lib = dir.resolve(FILE);
      Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
      try {
        System.load(lib.toString());
      } finally {
        // The loaded image stays mapped; on Windows the file is still open and is removed at
        // exit instead.
        try {
          Files.delete(lib);
          Files.delete(dir);
        } catch (IOException e) {
          lib.toFile().deleteOnExit();
          dir.toFile().deleteOnExit();
        }
      }
    } catch (IOException e) {
      UnsatisfiedLinkError err =
          new UnsatisfiedLinkError("polytrace: cannot extract the native library: " + e);
      err.initCause(e);
      throw err;
    }
  }

  /** The error message when the JAR has no library for {@code platform}. */
  static String missing(String platform) {
    return "polytrace: this JAR has no native library for "
        + platform
        + " (os.name="
        + System.getProperty("os.name")
        + ", os.arch="
        + System.getProperty("os.arch")
        + "); it carries: "
        + carried()
        + ". Build it for this platform with `mvn -B verify` in bindings/java.";
  }

  /** This JVM's platform as the JAR names it: {@code linux-x86_64}, {@code macos-aarch64}, ... */
  static String platform() {
    return os(System.getProperty("os.name", "")) + "-" + arch(System.getProperty("os.arch", ""));
  }

  static String os(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.startsWith("linux")) {
      return "linux";
    }
    if (n.startsWith("mac") || n.startsWith("darwin")) {
      return "macos";
    }
    if (n.startsWith("windows")) {
      return "windows";
    }
    return n.replaceAll("[^a-z0-9]", "");
  }

  static String arch(String arch) {
    String a = arch.toLowerCase(Locale.ROOT);
    switch (a) {
      case "amd64":
      case "x86_64":
      case "x64":
        return "x86_64";
      case "aarch64":
      case "arm64":
        return "aarch64";
      default:
        return a.replaceAll("[^a-z0-9_]", "");
    }
  }

  /** The platforms listed in {@code native/platforms.txt} (written by the build). */
  static String carried() {
    try (InputStream in = NativeLoader.class.getResourceAsStream("/native/platforms.txt")) {
      if (in == null) {
        return "none";
      }
      String s = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().replace('\n', ' ');
      return s.isEmpty() ? "none" : s;
    } catch (IOException e) {
      return "unknown";
    }
  }
}
