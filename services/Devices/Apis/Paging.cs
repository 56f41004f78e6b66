namespace Gateway.Devices.Apis;

// ?page=&pageSize= read by hand, so a bad value is a 400 that names the parameter.
public sealed record Paging(int Page, int PageSize)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public int Skip => (Page - 1) * PageSize;

    public static Paging Read(string? page, string? pageSize, IDictionary<string, string[]> errors)
    {
        var p = 1;
        var size = DefaultPageSize;
        if (page is not null && (!int.TryParse(page, out p) || p < 1 || p > 100_000))
        {
            errors["page"] = ["The page must be a whole number from 1."];
        }
        if (pageSize is not null && (!int.TryParse(pageSize, out size) || size < 1 || size > MaxPageSize))
        {
            errors["pageSize"] = [$"The page size must be a whole number from 1 to {MaxPageSize}."];
        }
        return new Paging(Math.Max(p, 1), Math.Clamp(size, 1, MaxPageSize));
    }
}

public sealed record PageOf<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);
