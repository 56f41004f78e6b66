// Drives Debian server binaries through Gateway.Hosting.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
