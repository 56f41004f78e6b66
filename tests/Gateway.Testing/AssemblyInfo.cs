// The launchers drive Debian server binaries and POSIX signals.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
