using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Work;

/// <summary>
/// A job's arguments: go-work's <c>map[string]interface{}</c> as named JSON values, so a job can come from
/// configuration, the command line or an HTTP request and cross the cluster unchanged. Immutable: the
/// <c>With</c> methods return a copy.
/// </summary>
/// <remarks>Each value is kept as its JSON text; typed access deserializes on demand with web defaults
/// (camelCase, case-insensitive).</remarks>
[GenerateSerializer, Immutable, Alias("work.args")]
[System.Text.Json.Serialization.JsonConverter(typeof(JobArgsJsonConverter))]
public sealed class JobArgs : IReadOnlyCollection<KeyValuePair<string, JsonElement>>, IEquatable<JobArgs>
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    [Id(0)]
    private readonly Dictionary<string, string> _values;

    private JobArgs(Dictionary<string, string> values) => _values = values;

    /// <summary>Arguments with no values.</summary>
    public static JobArgs Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The number of named values.</summary>
    public int Count => _values.Count;

    /// <summary>The names of the values.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>The size of the names and JSON texts in UTF-8 bytes, which limits on job size are checked against.</summary>
    public int SizeInBytes
    {
        get
        {
            var size = 0;
            foreach (var (key, json) in _values)
            {
                size += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(json);
            }

            return size;
        }
    }

    /// <summary>Parses a JSON object, such as <c>{"to":"a@b.c","retries":3}</c>, into arguments.</summary>
    /// <exception cref="FormatException">The text is not a JSON object.</exception>
    public static JobArgs Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Job arguments must be a JSON object: {ex.Message}", ex);
        }

        if (node is not JsonObject obj)
        {
            throw new FormatException($"Job arguments must be a JSON object, not {node?.GetValueKind().ToString() ?? "null"}.");
        }

        var values = new Dictionary<string, string>(obj.Count, StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            values[key] = value?.ToJsonString() ?? "null";
        }

        return new JobArgs(values);
    }

    /// <summary>
    /// Makes arguments from the public properties of an object (an anonymous object or a record) or from the entries
    /// of a dictionary, serialized as JSON with web defaults.
    /// </summary>
    public static JobArgs From(object? values) =>
        values is null ? Empty : Parse(JsonSerializer.Serialize(values, values.GetType(), s_json));

    /// <summary>A copy with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public JobArgs With<T>(string key, T value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var copy = new Dictionary<string, string>(_values, StringComparer.Ordinal)
        {
            [key] = JsonSerializer.Serialize(value, s_json),
        };
        return new JobArgs(copy);
    }

    /// <summary>A copy without <paramref name="key"/>.</summary>
    public JobArgs Without(string key)
    {
        if (!_values.ContainsKey(key))
        {
            return this;
        }

        var copy = new Dictionary<string, string>(_values, StringComparer.Ordinal);
        copy.Remove(key);
        return new JobArgs(copy);
    }

    /// <summary>True when a value named <paramref name="key"/> exists.</summary>
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <summary>The value named <paramref name="key"/> as a <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">No value has that name.</exception>
    /// <exception cref="FormatException">The value cannot be read as a <typeparamref name="T"/>.</exception>
    public T Get<T>(string key)
    {
        if (!_values.TryGetValue(key, out var json))
        {
            throw new KeyNotFoundException($"The job has no argument named '{key}'.");
        }

        return Deserialize<T>(json, $"argument '{key}'");
    }

    /// <summary>The value named <paramref name="key"/> as a <typeparamref name="T"/>, or <paramref name="fallback"/> when it is absent.</summary>
    /// <exception cref="FormatException">The value exists but cannot be read as a <typeparamref name="T"/>.</exception>
    public T GetOrDefault<T>(string key, T fallback) =>
        _values.TryGetValue(key, out var json) ? Deserialize<T>(json, $"argument '{key}'") : fallback;

    /// <summary>Reads the value named <paramref name="key"/> when it exists and is a <typeparamref name="T"/>.</summary>
    public bool TryGet<T>(string key, [MaybeNullWhen(false)] out T value)
    {
        value = default;
        if (!_values.TryGetValue(key, out var json))
        {
            return false;
        }

        try
        {
            value = JsonSerializer.Deserialize<T>(json, s_json)!;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The raw JSON of the value named <paramref name="key"/>.</summary>
    public JsonElement GetJson(string key) => Get<JsonElement>(key);

    /// <summary>Binds all values to the properties of <typeparamref name="TArgs"/> (names are case-insensitive).</summary>
    /// <exception cref="FormatException">A value does not fit the property it binds to.</exception>
    public TArgs Bind<TArgs>() => Deserialize<TArgs>(ToJson(), $"arguments as {typeof(TArgs).Name}");

    /// <summary>All values as one JSON object.</summary>
    public string ToJson()
    {
        var builder = new StringBuilder("{");
        var first = true;
        foreach (var (key, json) in _values)
        {
            if (!first)
            {
                builder.Append(',');
            }

            first = false;
            builder.Append(JsonSerializer.Serialize(key, s_json)).Append(':').Append(json);
        }

        return builder.Append('}').ToString();
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator()
    {
        foreach (var (key, json) in _values)
        {
            using var document = JsonDocument.Parse(json);
            yield return new KeyValuePair<string, JsonElement>(key, document.RootElement.Clone());
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public bool Equals(JobArgs? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._values.Count != _values.Count)
        {
            return false;
        }

        foreach (var (key, json) in _values)
        {
            if (!other._values.TryGetValue(key, out var otherJson) || !string.Equals(json, otherJson, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as JobArgs);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var (key, json) in _values)
        {
            hash ^= HashCode.Combine(key, json);
        }

        return hash;
    }

    /// <inheritdoc />
    public override string ToString() => ToJson();

    private static T Deserialize<T>(string json, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, s_json)!;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The job's {what} cannot be read as {typeof(T).Name}: {ex.Message}", ex);
        }
    }
}
