using System.Text;
using Casebook.Server.Feeds.Hl7;

namespace Casebook.Tests.Server.Feeds;

/// <summary>The hand-written HL7 v2 reader and MLLP framing, without a server.</summary>
public class Hl7MessageTests
{
    [Fact]
    public void Fields_components_repetitions_and_escapes_follow_the_delimiters_the_message_declares()
    {
        // Non-default delimiters: '#' field, '@' component, '*' repetition, '!' escape, '$' subcomponent.
        var m = Hl7Message.Parse("MSH#@*!$#LAB#HOSP#CB#RES#20240101##ORU@R01#C-1#P#2.3\rPID#1##ID-1@@@AUTH$1.2.3$ISO*ID-2#\rOBX#1#FT#X##a!F!b!S!c!T!d!R!e!E!f!.br!g!X41!h##\n");
        Assert.Equal("ORU", m.MessageType);
        Assert.Equal("R01", m.TriggerEvent);
        Assert.Equal("C-1", m.ControlId);
        Assert.Equal("#", m.Msh.Get(1));
        Assert.Equal("@*!$", m.Msh.Get(2));
        Assert.Equal("LAB@HOSP", m.Sender);
        var pid = m.First("PID")!;
        Assert.Equal("ID-1", pid.Get(3));
        Assert.Equal("AUTH", pid.Get(3, 4, 1));
        Assert.Equal("1.2.3", pid.Get(3, 4, 2));
        Assert.Equal("ID-2", pid.Get(3, repetition: 1));
        Assert.Equal("", pid.Get(3, repetition: 2));
        Assert.Equal("", pid.Get(40));
        Assert.Equal("a#b@c$d*e!f\ngAh", m.First("OBX")!.Get(5));
    }

    [Theory]
    [InlineData("", "does not start with an MSH")]
    [InlineData("PID|1||X", "does not start with an MSH")]
    [InlineData("MSH|", "too short")]
    [InlineData("MSH|^~|A|B", "MSH-2")]
    [InlineData("MSH|^~\\&|A|B|C|D|T||ADT^A08|1|P|2.5\rx|", "is not a segment")]
    public void Unreadable_messages_are_refused_with_a_reason(string text, string reason)
    {
        var e = Assert.Throws<Hl7Exception>(() => Hl7Message.Parse(text));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Escaping_round_trips_and_dates_parse_at_their_precision()
    {
        var d = Hl7Delimiters.Default;
        const string text = "a|b^c~d\\e&f";
        Assert.Equal(text, Hl7Message.Unescape(Hl7Message.Escape(text, d), d));
        Assert.Equal(new DateOnly(1950, 6, 12), Hl7Message.ParseDate("19500612083000+0100"));
        Assert.Equal(new DateOnly(1950, 6, 15), Hl7Message.ParseDate("195006"));
        Assert.Equal(new DateOnly(1950, 7, 1), Hl7Message.ParseDate("1950"));
        Assert.Null(Hl7Message.ParseDate("notadate"));
    }

    [Fact]
    public void Ack_echoes_the_control_id_and_carries_the_error_text_escaped()
    {
        var m = Hl7Message.Parse("MSH|^~\\&|RIS|HOSP|CB|RES|20240101||ADT^A08|MSG-7|P|2.5\rPID|1||X");
        var ack = Hl7Message.Parse(Hl7Acknowledgement.Build(m, Hl7Acknowledgement.Error, "PID-7: 'a|b' is not a date", Hl7Exception.DataType, "CASEBOOK"));
        Assert.Equal("ACK", ack.MessageType);
        Assert.Equal("RIS", ack.Msh.Get(5));
        Assert.Equal("CB", ack.Msh.Get(3));
        Assert.Equal("AE", ack.First("MSA")!.Get(1));
        Assert.Equal("MSG-7", ack.First("MSA")!.Get(2));
        Assert.Equal("PID-7: 'a|b' is not a date", ack.First("MSA")!.Get(3));
        Assert.Equal("102", ack.First("ERR")!.Get(3, 1));
    }

    [Fact]
    public async Task Mllp_skips_garbage_restarts_on_a_new_start_byte_and_refuses_oversized_frames()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.ASCII.GetBytes("noise"));
        bytes.Add(0x0B); bytes.AddRange(Encoding.ASCII.GetBytes("partial"));
        bytes.Add(0x0B); bytes.AddRange(Encoding.ASCII.GetBytes("first")); bytes.Add(0x1C); bytes.Add(0x0D);
        bytes.AddRange(Encoding.ASCII.GetBytes("\r\n"));
        bytes.Add(0x0B); bytes.AddRange(Encoding.ASCII.GetBytes("second")); bytes.Add(0x1C); bytes.Add(0x0D);
        bytes.Add(0x0B); bytes.AddRange(Encoding.ASCII.GetBytes("cut off at EOF"));
        var reader = new MllpReader(new MemoryStream(bytes.ToArray()), 1000);
        Assert.Equal("first", Encoding.ASCII.GetString((await reader.ReadAsync(default))!));
        Assert.Equal("second", Encoding.ASCII.GetString((await reader.ReadAsync(default))!));
        Assert.Null(await reader.ReadAsync(default));

        var big = new MllpReader(new MemoryStream([0x0B, .. new byte[2000], 0x1C, 0x0D]), 1000);
        await Assert.ThrowsAsync<InvalidDataException>(() => big.ReadAsync(default));
    }
}
