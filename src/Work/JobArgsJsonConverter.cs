using System.Text.Json;
using System.Text.Json.Serialization;

namespace Work;

/// <summary>Writes <see cref="JobArgs"/> as the JSON object it is, and reads one back.</summary>
public sealed class JobArgsJsonConverter : JsonConverter<JobArgs>
{
    /// <inheritdoc />
    public override JobArgs Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return JobArgs.Parse(document.RootElement.GetRawText());
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, JobArgs value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteRawValue(value.ToJson(), skipInputValidation: true);
    }
}
