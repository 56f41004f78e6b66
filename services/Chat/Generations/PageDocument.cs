using System.Text.RegularExpressions;

namespace Gateway.Chat.Generations;

// What the model wrote for a page, accepted only when it has the asked format's shape: a cheap structural check, not a
// parser or a compiler. The code is stored as written (its scripts included: a page's, a component's handlers, the
// Tailwind CDN are what was asked for); a dashboard shows it in a sandboxed frame, as it would any generated page.
public static partial class PageDocument
{
    public const int MaxLength = 256 * 1024;

    public const string HtmlTailwind = "html_tailwind";
    public const string HtmlCss = "html_css";
    public const string ReactTailwind = "react_tailwind";
    public const string VueTailwind = "vue_tailwind";

    public static readonly IReadOnlyList<string> Formats = [HtmlTailwind, HtmlCss, ReactTailwind, VueTailwind];

    // What each format is, in the words the model is told and the check holds it to.
    public static string Describe(string format) => format switch
    {
        HtmlTailwind => "one complete HTML document (<!DOCTYPE html>, <html>, <head>, <body>) styled with Tailwind CSS utility classes in class attributes, loading Tailwind from its CDN",
        HtmlCss => "one complete HTML document (<!DOCTYPE html>, <html>, <head>, <body>) styled by its own CSS in a <style> element in the head, without any CSS framework",
        ReactTailwind => "one React function component in JSX, exported with `export default`, styled with Tailwind CSS utility classes in className attributes",
        VueTailwind => "one Vue single-file component: a <template> (and a <script setup> if it needs one), styled with Tailwind CSS utility classes in class attributes",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a page format"),
    };

    // The page's code (without the Markdown fence a model may wrap it in), or why it is not of the format.
    public static (string? Code, string? Problem) Check(string format, string modelOutput)
    {
        var code = Unfenced(modelOutput).Trim();
        if (code.Length == 0)
        {
            return (null, "The model answered nothing.");
        }
        if (code.Length > MaxLength)
        {
            return (null, $"The page is longer than {MaxLength / 1024} KiB.");
        }
        var problem = format switch
        {
            HtmlTailwind => HtmlDocument(code) ?? (TailwindClasses(code, "class") ? null : "it uses no Tailwind utility classes (class=\"…\")"),
            HtmlCss => HtmlDocument(code) ?? (StyleElement().IsMatch(code) ? null : "it has no <style> element"),
            ReactTailwind => (ExportDefault().IsMatch(code) ? null : "it exports no component (export default)")
                ?? (JsxElement().IsMatch(code) ? null : "it returns no JSX")
                ?? (HtmlElement().IsMatch(code) ? "it is an HTML document, not a component" : null)
                ?? (TailwindClasses(code, "className") ? null : "it uses no Tailwind utility classes (className=\"…\")"),
            VueTailwind => (VueTemplate().IsMatch(code) ? null : "it has no top-level <template>…</template>")
                ?? (HtmlElement().IsMatch(code) ? "it is an HTML document, not a single-file component" : null)
                ?? (TailwindClasses(code, "class") ? null : "it uses no Tailwind utility classes (class=\"…\")"),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a page format"),
        };
        return problem is null ? (code, null) : (null, $"The model's answer is not {format}: {problem}.");
    }

    private static string? HtmlDocument(string code) =>
        !HtmlElement().IsMatch(code) || !code.Contains("</html>", StringComparison.OrdinalIgnoreCase) ? "it is not an HTML document (<html>…</html>)"
        : !BodyElement().IsMatch(code) ? "it has no <body>"
        : null;

    // At least one class attribute holding a Tailwind utility (flex, p-4, text-lg, bg-slate-900, md:grid-cols-2, …).
    private static bool TailwindClasses(string code, string attribute) =>
        ClassAttribute().Matches(code).Where(m => m.Groups["name"].Value == attribute)
            .SelectMany(m => m.Groups["value"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(c => TailwindUtility().IsMatch(c));

    // The first fenced block's content when the answer has one (```html … ```), else the answer itself.
    private static string Unfenced(string text) => Fenced().Match(text) is { Success: true } block ? block.Groups["code"].Value : text;

    [GeneratedRegex(@"^[ \t]*(?<fence>```|~~~)[^\n]*\n(?<code>.*?)^[ \t]*\k<fence>[ \t]*$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Fenced();

    [GeneratedRegex(@"<html[\s>]", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlElement();

    [GeneratedRegex(@"<body[\s>]", RegexOptions.IgnoreCase)]
    private static partial Regex BodyElement();

    [GeneratedRegex(@"<style[\s>]", RegexOptions.IgnoreCase)]
    private static partial Regex StyleElement();

    [GeneratedRegex(@"\bexport\s+default\b")]
    private static partial Regex ExportDefault();

    [GeneratedRegex(@"(?:return|=>)\s*\(?\s*<[A-Za-z>]")]
    private static partial Regex JsxElement();

    [GeneratedRegex(@"^<template[\s>].*^</template>", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex VueTemplate();

    [GeneratedRegex(@"\b(?<name>class|className)\s*=\s*(?:""(?<value>[^""]*)""|'(?<value>[^']*)'|\{\s*[""'`](?<value>[^""'`]*)[""'`]\s*\})")]
    private static partial Regex ClassAttribute();

    // A utility, after any variants (hover:, md:, dark:): a known prefix with its value, or one of the bare ones.
    [GeneratedRegex(@"^(?:[a-z0-9\-\[\]]+:)*-?(?:(?:p|px|py|pt|pr|pb|pl|m|mx|my|mt|mr|mb|ml|w|h|min-w|min-h|max-w|max-h|gap|gap-x|gap-y|space-x|space-y|text|bg|border|rounded|shadow|font|leading|tracking|grid-cols|col-span|items|justify|content|self|z|top|right|bottom|left|inset|opacity|ring|from|to|via|divide|object|overflow|translate-x|translate-y|scale|rotate|duration|ease|transition|order|basis|grow|shrink|aspect|line-clamp|decoration|outline|fill|stroke)-[A-Za-z0-9\[\]\/\.#%\-]+|flex|grid|block|inline-block|inline-flex|hidden|container|relative|absolute|fixed|sticky|rounded|shadow|border|underline|uppercase|italic|truncate|grow|shrink|transition|antialiased)$")]
    private static partial Regex TailwindUtility();
}
