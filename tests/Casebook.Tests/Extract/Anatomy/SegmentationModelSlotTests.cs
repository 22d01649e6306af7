using Casebook.Embed;
using Casebook.Extract.Anatomy;
using Google.Protobuf;
using Onnx;

namespace Casebook.Tests.Extract.Anatomy;

public class SegmentationModelSlotTests
{
    /// <summary>
    /// Writes a real ONNX network: input [N, 1, 96, 96] (windowed to [0, 1]), output class scores [N, 3, 96, 96] where class 1
    /// (air) wins below 0.3 and class 2 (bone) above 0.625, i.e. below −400 HU and above 250 HU with a [−1000, 1000] window.
    /// </summary>
    static void WriteThresholdNetwork(string path, int channels = 1)
    {
        static ValueInfoProto Tensor(string name, params object[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
        }
        static TensorProto Scalar(string name, float value)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.Add(1);
            t.FloatData.Add(value);
            return t;
        }
        static NodeProto Node(string op, string output, params string[] inputs)
        {
            var n = new NodeProto { OpType = op, Name = output };
            n.Input.AddRange(inputs);
            n.Output.Add(output);
            return n;
        }
        var graph = new GraphProto { Name = "threshold-segmenter" };
        graph.Input.Add(Tensor("slice", "N", channels, 96, 96));
        graph.Output.Add(Tensor("scores", "N", 3, 96, 96));
        graph.Initializer.Add(Scalar("air_below", 0.3f));
        graph.Initializer.Add(Scalar("bone_above", 0.625f));
        graph.Node.Add(Node("Sub", "air", "air_below", "slice"));
        graph.Node.Add(Node("Sub", "bone", "slice", "bone_above"));
        graph.Node.Add(Node("Sub", "above_air", "slice", "air_below"));
        graph.Node.Add(Node("Sub", "below_bone", "bone_above", "slice"));
        graph.Node.Add(Node("Min", "tissue", "above_air", "below_bone"));
        var concat = Node("Concat", "scores", "tissue", "air", "bone");
        concat.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(concat);
        var model = new ModelProto { IrVersion = 8, ProducerName = "casebook-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    static ModelRegistry Registry(TempDirectory dir, string modelEntry) =>
        ModelRegistry.Parse($$"""{ "models": [ {{modelEntry}} ] }""", dir.Path, "models.json");

    [Fact]
    public void A_registered_onnx_network_names_regions_by_its_label_map()
    {
        using var dir = new TempDirectory();
        WriteThresholdNetwork(dir["segmenter.onnx"]);
        var registry = Registry(dir, """{ "name": "thresholds", "kind": "segmentation", "path": "segmenter.onnx", "labels": { "1": "air", "2": "bone" }, "window": [-1000, 1000] }""");
        using var model = registry.CreateSegmentationModel("thresholds");
        var chest = new SyntheticChest();

        var structures = model.Segment(chest.Ct).ToDictionary(s => s.Name);

        Assert.Equal(["air", "bone"], structures.Keys.Order());
        Assert.All(structures.Values, s => Assert.Equal("model:thresholds", s.Source));
        Assert.StartsWith("thresholds@sha256:", model.ModelId);
        // The model sees slices resampled from 120×100 to 96×96 and its labels come back by nearest neighbour, so the
        // boundaries move by up to a voxel; the bulk must agree with the construction.
        var lungs = chest.PatientLeftLung.Zip(chest.PatientRightLung, (a, b) => a || b).ToArray();
        var lungsAsAir = Enumerable.Range(0, lungs.Length).Count(i => lungs[i] && structures["air"].Mask.Bits[i]);
        Assert.True(lungsAsAir > 0.97 * lungs.Count(b => b));
        Assert.True(CtRuleMasksTests.Dice(structures["bone"].Mask, chest.Spine) > 0.8);
        Assert.InRange(structures["bone"].MeanHu, 500, 800);
    }

    [Fact]
    public void Misconfigured_slots_fail_naming_the_field_or_the_shape()
    {
        using var dir = new TempDirectory();
        WriteThresholdNetwork(dir["segmenter.onnx"]);
        WriteThresholdNetwork(dir["rgb.onnx"], channels: 3);

        var noLabels = Assert.Throws<InvalidDataException>(() => Registry(dir, """{ "name": "s", "kind": "segmentation", "path": "segmenter.onnx" }"""));
        Assert.Contains("'labels'", noLabels.Message);
        var background = Assert.Throws<InvalidDataException>(() => Registry(dir, """{ "name": "s", "kind": "segmentation", "path": "segmenter.onnx", "labels": { "0": "background" } }"""));
        Assert.Contains("labels key '0'", background.Message);
        var window = Assert.Throws<InvalidDataException>(() => Registry(dir, """{ "name": "s", "kind": "segmentation", "path": "segmenter.onnx", "labels": { "1": "air" }, "window": [400, -400] }"""));
        Assert.Contains("'window'", window.Message);

        var rgb = Registry(dir, """{ "name": "rgb", "kind": "segmentation", "path": "rgb.onnx", "labels": { "1": "air" } }""");
        var shape = Assert.Throws<InvalidDataException>(() => rgb.CreateSegmentationModel("rgb"));
        Assert.Contains("single-channel slices", shape.Message);

        var image = Registry(dir, """{ "name": "s", "kind": "segmentation", "path": "segmenter.onnx", "labels": { "1": "air" } }""");
        Assert.Throws<InvalidOperationException>(() => image.CreateImageEmbedder("s"));
    }
}
