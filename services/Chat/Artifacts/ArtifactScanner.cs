using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Chat.Artifacts;

// A file the model wrote in its answer. Action is "create" the first time the session sees the path,
// "update" when an earlier answer of the session (or this one) already wrote it.
public sealed record FileArtifact(string Path, string? Language, string Content, string Action);

// Finds files in an answer as it streams: fenced code blocks (``` or ~~~, CommonMark) whose info string
// names a file — "```python app.py", "```python:app.py", "```python title=\"app.py\"" or "```app.py".
// A block without a file name is a snippet, not a file. A block still open when the answer ends (cut by
// the token limit, a failure or a caller who left) is not reported: half a file is not a file.
public sealed partial class ArtifactScanner(IEnumerable<string>? writtenBefore = null)
{
    private static readonly HashSet<string> NamesWithoutExtension = new(StringComparer.Ordinal) { "Dockerfile", "Makefile", "Procfile" };

    private readonly HashSet<string> _written = new(writtenBefore ?? [], StringComparer.Ordinal);
    private readonly StringBuilder _line = new();
    private OpenBlock? _open;

    // The files an earlier answer wrote, for telling a creation from an update.
    public static IEnumerable<string> PathsIn(string content)
    {
        var scanner = new ArtifactScanner();
        return scanner.Append(content).Concat(scanner.Complete()).Select(file => file.Path);
    }

    // The files whose block closed within this piece of the answer.
    public IReadOnlyList<FileArtifact> Append(string text)
    {
        List<FileArtifact>? found = null;
        foreach (var c in text)
        {
            if (c != '\n')
            {
                _line.Append(c);
                continue;
            }
            if (Read(_line.ToString()) is { } file)
            {
                (found ??= []).Add(file);
            }
            _line.Clear();
        }
        return found ?? [];
    }

    // The answer ended: its last line, without a newline, may still close a block.
    public IReadOnlyList<FileArtifact> Complete()
    {
        var last = Read(_line.ToString());
        _line.Clear();
        _open = null;
        return last is null ? [] : [last];
    }

    private FileArtifact? Read(string line)
    {
        line = line.TrimEnd('\r');
        if (_open is null)
        {
            if (Opening().Match(line) is { Success: true } opening)
            {
                var (path, language) = Name(opening.Groups["info"].Value.Trim());
                _open = new OpenBlock(opening.Groups["fence"].Value, path, language, new StringBuilder());
            }
            return null;
        }
        if (Closing().Match(line) is { Success: true } closing
            && closing.Groups["fence"].Value[0] == _open.Fence[0] && closing.Groups["fence"].Length >= _open.Fence.Length)
        {
            var block = _open;
            _open = null;
            if (block.Path is null)
            {
                return null;
            }
            var action = _written.Add(block.Path) ? "create" : "update";
            return new FileArtifact(block.Path, block.Language, block.Content.ToString(), action);
        }
        _open.Content.Append(line).Append('\n');
        return null;
    }

    private static (string? Path, string? Language) Name(string info)
    {
        if (info.Length == 0)
        {
            return (null, null);
        }
        var words = info.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries);
        var first = words[0];
        if (Attribute().Match(info) is { Success: true } attribute && IsFileName(attribute.Groups["path"].Value))
        {
            return (attribute.Groups["path"].Value, first.Contains('=') ? Extension(attribute.Groups["path"].Value) : first);
        }
        if (first.Split(':', 2) is [var language, var path] && IsFileName(path))
        {
            return (path, language);
        }
        if (IsFileName(first))
        {
            return (first, Extension(first));
        }
        return words.Length > 1 && IsFileName(words[1]) ? (words[1], first) : (null, first);
    }

    // A relative path with an extension (or a well-known name), never leaving its folder.
    private static bool IsFileName(string path) =>
        path.Length <= 200 && !path.StartsWith('/') && !path.Split('/').Contains("..")
        && (FileName().IsMatch(path) || NamesWithoutExtension.Contains(path.Split('/')[^1]));

    private static string? Extension(string path) => Path.GetExtension(path) is { Length: > 1 } extension ? extension[1..].ToLowerInvariant() : null;

    private sealed record OpenBlock(string Fence, string? Path, string? Language, StringBuilder Content);

    [GeneratedRegex(@"^ {0,3}(?<fence>`{3,}|~{3,})(?<info>[^`]*)$")]
    private static partial Regex Opening();

    [GeneratedRegex(@"^ {0,3}(?<fence>`{3,}|~{3,})[ \t]*$")]
    private static partial Regex Closing();

    [GeneratedRegex(@"\b(?:title|file|filename|path)=[""']?(?<path>[^""'\s]+)[""']?")]
    private static partial Regex Attribute();

    [GeneratedRegex(@"^[\w\-./]*[\w\-]\.[A-Za-z][A-Za-z0-9]{0,9}$")]
    private static partial Regex FileName();
}
