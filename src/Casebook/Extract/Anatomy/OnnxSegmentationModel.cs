using Casebook.Embed;
using Casebook.Extract.Volumes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Casebook.Extract.Anatomy;

/// <summary>
/// The segmentation-model slot: a user-supplied ONNX network (an exported TotalSegmentator, MONAI or nnU-Net 2-D model,
/// say) registered in models.json with its label map, run slice by slice over a volume. Each axial slice is resampled
/// (bilinear) to the model's input size, windowed to [0, 1] when a window is configured, and fed as [N, 1, H, W]. The
/// output is either class scores [N, C, H, W] (arg-max per pixel; a single channel is a probability, ≥ 0.5 is class 1)
/// or class indices [N, H, W]. Labels map back to the slice grid by nearest neighbour and become named structures.
/// </summary>
public sealed class OnnxSegmentationModel : IDisposable
{
    readonly InferenceSession _session;
    readonly ModelDefinition _definition;
    readonly string _input, _output;
    readonly int _width, _height, _batch;

    public OnnxSegmentationModel(ModelDefinition definition, OnnxRunOptions? options = null)
    {
        if (definition.Kind != ModelKind.Segmentation) throw new ArgumentException($"model '{definition.Name}' is not a segmentation model");
        _definition = definition;
        var path = definition.Path ?? throw new ArgumentException($"segmentation model '{definition.Name}' has no path");
        var bytes = OnnxModelLoader.ReadModelFile(path, definition.Name);
        ModelId = $"{definition.Name}@sha256:{OnnxModelLoader.Sha256Hex(bytes)[..16]}";
        _session = OnnxModelLoader.OpenSession(bytes, options ?? OnnxRunOptions.Default, path);
        _input = definition.InputName ?? _session.InputMetadata.Keys.First();
        if (!_session.InputMetadata.TryGetValue(_input, out var input))
            throw new InvalidDataException($"ONNX model {path} has no input '{_input}'; its inputs are: {string.Join(", ", _session.InputMetadata.Keys)}");
        var dims = input.Dimensions;
        if (dims.Length != 4 || (dims[1] > 0 && dims[1] != 1))
            throw new InvalidDataException($"ONNX model {path}: input '{_input}' has shape [{string.Join(", ", dims)}]; the slot takes single-channel slices [N, 1, H, W]");
        // A fixed spatial size in the model wins over the configuration; a dynamic one takes the configured size.
        _height = dims[2] > 0 ? dims[2] : definition.InputHeight;
        _width = dims[3] > 0 ? dims[3] : definition.InputWidth;
        _batch = dims[0] > 0 ? dims[0] : 8;
        _output = OnnxModelLoader.ResolveOutput(_session, definition.OutputName, path);
    }

    public string Name => _definition.Name;

    /// <summary>Name and hash of the network, recorded with every region it produces.</summary>
    public string ModelId { get; }

    public string Source => $"model:{_definition.Name}";

    /// <summary>A label per voxel (0 = background) on the volume's grid.</summary>
    public int[] Label(ImageVolume volume)
    {
        var labels = new int[volume.Count];
        var slice = volume.Nx * volume.Ny;
        for (var z0 = 0; z0 < volume.Nz; z0 += _batch)
        {
            var n = Math.Min(_batch, volume.Nz - z0);
            if (_batch != n && _session.InputMetadata[_input].Dimensions[0] > 0) n = _batch; // fixed batch: pad with repeats
            var tensor = new DenseTensor<float>([n, 1, _height, _width]);
            for (var b = 0; b < n; b++)
                ResampleSlice(volume, Math.Min(z0 + b, volume.Nz - 1), tensor, b);
            using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_input, tensor)], [_output]);
            var value = results.First();
            for (var b = 0; b < n && z0 + b < volume.Nz; b++)
            {
                var modelLabels = ModelLabels(value, b);
                var offset = (z0 + b) * slice;
                for (var y = 0; y < volume.Ny; y++)
                {
                    var my = Math.Min(_height - 1, (int)((y + 0.5) * _height / volume.Ny));
                    for (var x = 0; x < volume.Nx; x++)
                    {
                        var mx = Math.Min(_width - 1, (int)((x + 0.5) * _width / volume.Nx));
                        var label = modelLabels[my * _width + mx];
                        labels[offset + y * volume.Nx + x] = _definition.Labels!.ContainsKey(label) ? label : 0;
                    }
                }
            }
        }
        return labels;
    }

    /// <summary>One structure per configured label that the model found, with volume and mean intensity.</summary>
    public IReadOnlyList<AnatomyStructure> Segment(ImageVolume volume)
    {
        var labels = Label(volume);
        var voxelMl = volume.Spacing[0] * volume.Spacing[1] * volume.Spacing[2] / 1000.0;
        var result = new List<AnatomyStructure>();
        foreach (var (index, name) in _definition.Labels!.OrderBy(l => l.Key))
        {
            var mask = new BinaryMask(volume);
            double sum = 0;
            var count = 0;
            for (var i = 0; i < labels.Length; i++)
                if (labels[i] == index) { mask.Bits[i] = true; sum += volume.Voxels[i]; count++; }
            if (count > 0) result.Add(new AnatomyStructure(name, Source, mask, count, count * voxelMl, sum / count));
        }
        return result;
    }

    void ResampleSlice(ImageVolume volume, int z, DenseTensor<float> tensor, int b)
    {
        var window = _definition.Window;
        var offset = z * volume.Nx * volume.Ny;
        for (var my = 0; my < _height; my++)
        {
            // Pixel centres aligned: model pixel centre → fractional source position.
            var sy = Math.Clamp((my + 0.5) * volume.Ny / _height - 0.5, 0, volume.Ny - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, volume.Ny - 1);
            var fy = sy - y0;
            for (var mx = 0; mx < _width; mx++)
            {
                var sx = Math.Clamp((mx + 0.5) * volume.Nx / _width - 0.5, 0, volume.Nx - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, volume.Nx - 1);
                var fx = sx - x0;
                double V(int x, int y) => volume.Voxels[offset + y * volume.Nx + x];
                var v = (1 - fy) * ((1 - fx) * V(x0, y0) + fx * V(x1, y0)) + fy * ((1 - fx) * V(x0, y1) + fx * V(x1, y1));
                if (window != null) v = Math.Clamp((v - window[0]) / (window[1] - window[0]), 0, 1);
                tensor[b, 0, my, mx] = (float)v;
            }
        }
    }

    int[] ModelLabels(DisposableNamedOnnxValue value, int b)
    {
        var plane = _width * _height;
        var labels = new int[plane];
        switch (value.Value)
        {
            case Tensor<float> scores when scores.Dimensions.Length == 4:
            {
                var classes = scores.Dimensions[1];
                CheckPlane(scores.Dimensions[2], scores.Dimensions[3]);
                for (var y = 0; y < _height; y++)
                    for (var x = 0; x < _width; x++)
                    {
                        if (classes == 1) { labels[y * _width + x] = scores[b, 0, y, x] >= 0.5f ? 1 : 0; continue; }
                        var best = 0;
                        var bestScore = scores[b, 0, y, x];
                        for (var c = 1; c < classes; c++)
                            if (scores[b, c, y, x] > bestScore) { bestScore = scores[b, c, y, x]; best = c; }
                        labels[y * _width + x] = best;
                    }
                return labels;
            }
            case Tensor<long> indices when indices.Dimensions.Length == 3:
                CheckPlane(indices.Dimensions[1], indices.Dimensions[2]);
                for (var y = 0; y < _height; y++) for (var x = 0; x < _width; x++) labels[y * _width + x] = (int)indices[b, y, x];
                return labels;
            case Tensor<int> indices when indices.Dimensions.Length == 3:
                CheckPlane(indices.Dimensions[1], indices.Dimensions[2]);
                for (var y = 0; y < _height; y++) for (var x = 0; x < _width; x++) labels[y * _width + x] = indices[b, y, x];
                return labels;
            default:
                throw new InvalidDataException($"segmentation model '{Name}': output '{_output}' must be float scores [N, C, H, W] or integer labels [N, H, W]");
        }
    }

    void CheckPlane(int h, int w)
    {
        if (h != _height || w != _width)
            throw new InvalidDataException($"segmentation model '{Name}': output plane {h}×{w} differs from the input {_height}×{_width}");
    }

    public void Dispose() => _session.Dispose();
}
