using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Gateway.Chat.Generations;

// What the model wrote, accepted only as one well-formed SVG document and stripped of everything that
// could run or reach out when a browser shows it: scripts, event handlers, foreign content, external links.
public static partial class SvgDocument
{
    public const int MaxLength = 64 * 1024;
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly XNamespace XLink = "http://www.w3.org/1999/xlink";
    private static readonly HashSet<string> Forbidden = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "foreignObject", "iframe", "object", "embed", "audio", "video", "handler", "listener", "set", "animate",
    };

    [GeneratedRegex(@"<svg[\s>].*</svg>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex SvgElement();

    // The clean SVG, or null when the text holds no readable SVG document.
    public static string? Clean(string modelOutput)
    {
        if (SvgElement().Match(modelOutput) is not { Success: true } match || match.Length > MaxLength)
        {
            return null;
        }
        XElement root;
        try
        {
            using var reader = XmlReader.Create(new StringReader(match.Value), new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = MaxLength,
            });
            root = XElement.Load(reader);
        }
        catch (XmlException)
        {
            return null;
        }
        if (root.Name.LocalName != "svg" || (root.Name.Namespace != Svg && root.Name.Namespace != XNamespace.None))
        {
            return null;
        }

        root.DescendantsAndSelf().Where(e => Forbidden.Contains(e.Name.LocalName) || (e.Name.Namespace != Svg && e.Name.Namespace != XNamespace.None))
            .ToList().ForEach(e => { if (e != root) e.Remove(); });
        foreach (var element in root.DescendantsAndSelf())
        {
            element.Attributes().Where(Dangerous).ToList().ForEach(a => a.Remove());
        }
        if (root.Name.Namespace == XNamespace.None)
        {
            root.SetAttributeValue("xmlns", Svg.NamespaceName);
        }
        return root.ToString(SaveOptions.DisableFormatting);
    }

    private static bool Dangerous(XAttribute attribute)
    {
        var name = attribute.Name.LocalName;
        var value = attribute.Value.Trim();
        return name.StartsWith("on", StringComparison.OrdinalIgnoreCase)
            || ((name == "href" || attribute.Name == XLink + "href") && !value.StartsWith('#'))
            || (name == "style" && (value.Contains("url(", StringComparison.OrdinalIgnoreCase) || value.Contains("expression", StringComparison.OrdinalIgnoreCase)))
            || value.Contains("javascript:", StringComparison.OrdinalIgnoreCase);
    }
}
