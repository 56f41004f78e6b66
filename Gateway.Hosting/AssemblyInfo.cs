using System.Runtime.Versioning;

// setpriv, chown and /proc: the local servers only run on Linux.
[assembly: SupportedOSPlatform("linux")]
