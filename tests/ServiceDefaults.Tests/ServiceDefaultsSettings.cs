namespace ServiceDefaults.Tests;

public static class ServiceDefaultsSettings
{
    // Nothing here talks to a model; Chat only needs to know where one would be.
    public static Dictionary<string, string?> With(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?> { ["Chat:Upstream:BaseUrl"] = "http://127.0.0.1:9/v1" };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        return settings;
    }
}
