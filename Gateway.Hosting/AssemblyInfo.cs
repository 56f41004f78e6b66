using System.Runtime.Versioning;

// Child processes, signals, setpriv and /proc: this library only runs on Linux.
[assembly: SupportedOSPlatform("linux")]
