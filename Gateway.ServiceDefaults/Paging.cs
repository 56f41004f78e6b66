using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.ServiceDefaults;

// Every paged list of every service answers this one shape (seed 003 fixed its names for icons):
// { data, total, limit, offset }, in the order its route documents. Two lists keep their own shape: the ledger's
// history pages by cursor (entries arrive while one pages) and /v1's model list is OpenAI's (docs/api-reference.md).
public sealed record Page<T>(IReadOnlyList<T> Data, int Total, int Limit, int Offset);

// ?limit=&offset= of a list, checked in one place: a bad value is a 400 naming the parameter.
public readonly record struct PageRequest(int Limit, int Offset)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static ProblemHttpResult? Check(int? limit, int? offset, out PageRequest page)
    {
        page = new PageRequest(limit ?? DefaultLimit, offset ?? 0);
        return limit is < 1 or > MaxLimit ? ApiProblems.Invalid("limit", $"The field 'limit' must be between 1 and {MaxLimit}.")
            : offset is < 0 ? ApiProblems.Invalid("offset", "The field 'offset' must not be negative.")
            : null;
    }

    public Page<T> Of<T>(IReadOnlyList<T> data, int total) => new(data, total, Limit, Offset);
}
