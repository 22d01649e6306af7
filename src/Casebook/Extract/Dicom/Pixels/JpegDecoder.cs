namespace Casebook.Extract.Dicom.Pixels;

/// <summary>A decoded JPEG image: one full-resolution plane per component, values in 0..2^precision−1.</summary>
public sealed class JpegImage
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required int Precision { get; init; }
    public required int[][] Planes { get; init; }
    /// <summary>True when the decoder converted YCbCr to RGB.</summary>
    public bool ConvertedToRgb { get; init; }
    public bool Lossless { get; init; }
}

/// <summary>
/// Managed JPEG decoder (ITU T.81) for the DICOM JPEG syntaxes: baseline and extended sequential DCT with Huffman coding
/// (8- and 12-bit, processes 1, 2, 4; SOF0/SOF1) and lossless (process 14, SOF3: predictors 1–7, point transform).
/// Interleaved and non-interleaved scans, any sampling factors for DCT, restart intervals.
/// Progressive, hierarchical and arithmetic-coded JPEG are rejected with a clear error.
/// </summary>
public sealed class JpegDecoder
{
    sealed class Component
    {
        public int Id, H, V, Tq;
        public bool Scanned;               // coded by a scan already (sequential processes: exactly one, T.81 §4.10)
        public int Width, Height;          // samples of this component (T.81 A.1.1)
        public int BlocksPerLine, BlocksPerColumn; // allocated, padded to whole MCUs
        public int Stride;                 // plane width in samples (padded)
        public int[] Plane = [];
        public int DcPred;
        public HuffmanTable? Dc, Ac;
    }

    sealed class HuffmanTable
    {
        // Fast lookup on the next 9 bits: (length << 8) | value, 0 when the code is longer.
        public readonly ushort[] Fast = new ushort[1 << FastBits];
        public readonly int[] MaxCode = new int[18];
        public readonly int[] ValPtr = new int[17];
        public readonly int[] MinCode = new int[17];
        public byte[] Values = [];

        public const int FastBits = 9;

        /// <summary>T.81 Annex C: code lengths → canonical codes.</summary>
        public static HuffmanTable Build(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values)
        {
            var t = new HuffmanTable { Values = values.ToArray() };
            int code = 0, k = 0;
            for (var len = 1; len <= 16; len++)
            {
                t.ValPtr[len] = k;
                t.MinCode[len] = code;
                var n = counts[len - 1];
                for (var i = 0; i < n; i++, k++, code++)
                {
                    if (len <= FastBits)
                    {
                        var shift = FastBits - len;
                        for (var j = 0; j < 1 << shift; j++) t.Fast[(code << shift) | j] = (ushort)((len << 8) | values[k]);
                    }
                }
                t.MaxCode[len] = n > 0 ? code - 1 : -1;
                if (code > 1 << len) throw new PixelDecodeException("JPEG: Huffman table has more codes than its lengths allow (T.81 C)");
                code <<= 1;
            }
            t.MaxCode[17] = int.MaxValue;
            return t;
        }
    }

    static readonly int[] ZigZag =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        // guard entries: corrupt run lengths past 63 land here instead of out of range
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];

    static readonly float[] IdctTable = BuildIdct();

    static float[] BuildIdct()
    {
        var t = new float[64];
        for (var x = 0; x < 8; x++)
            for (var u = 0; u < 8; u++)
                t[x * 8 + u] = (float)((u == 0 ? Math.Sqrt(0.5) : 1.0) * Math.Cos((2 * x + 1) * u * Math.PI / 16) / 2);
        return t;
    }

    readonly byte[] _data;
    int _pos;
    readonly long _maxPixels;
    readonly int[][] _quant = new int[4][];
    readonly HuffmanTable?[] _dcTables = new HuffmanTable?[4];
    readonly HuffmanTable?[] _acTables = new HuffmanTable?[4];
    Component[] _components = [];
    int _width, _height, _precision, _hMax, _vMax, _restartInterval;
    bool _lossless, _frameSeen, _adobe, _jfif;
    int _adobeTransform = -1;

    // entropy-coded segment reader
    ulong _bits;
    int _bitCount;
    bool _hitMarker;

    JpegDecoder(byte[] data, long maxPixels) { _data = data; _maxPixels = maxPixels; }

    /// <summary>Decodes a JPEG interchange-format stream. <paramref name="colorTransform"/> decides YCbCr→RGB for 3-component DCT images when no JFIF/Adobe marker says.</summary>
    public static JpegImage Decode(ReadOnlySpan<byte> jpeg, bool? colorTransform = null, long maxPixels = 1L << 28)
    {
        var d = new JpegDecoder(jpeg.ToArray(), maxPixels);
        try { return d.Run(colorTransform); }
        catch (IndexOutOfRangeException e)
        {
            // Managed bounds checks are the last line against corrupt tables/sampling combinations not caught above.
            throw new PixelDecodeException($"JPEG: corrupt codestream (inconsistent tables or sampling) near byte {d._pos}", e);
        }
    }

    /// <summary>Reads only the frame header (SOFn): width, height, components, precision, process.</summary>
    public static (int Width, int Height, int Components, int Precision, int Sof) ReadHeader(ReadOnlySpan<byte> jpeg)
    {
        var i = 2;
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new PixelDecodeException("JPEG: no SOI marker (FFD8) at the start of the frame");
        while (i + 4 <= jpeg.Length)
        {
            if (jpeg[i] != 0xFF) { i++; continue; }
            var m = jpeg[i + 1];
            if (m == 0xFF) { i++; continue; }
            var len = jpeg[i + 2] << 8 | jpeg[i + 3];
            if (m is >= 0xC0 and <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
            {
                if (i + 10 > jpeg.Length) break;
                return (jpeg[i + 7] << 8 | jpeg[i + 8], jpeg[i + 5] << 8 | jpeg[i + 6], jpeg[i + 9], jpeg[i + 4], m);
            }
            i += 2 + len;
        }
        throw new PixelDecodeException("JPEG: no frame header (SOF) found");
    }

    /// <summary>A JFIF (APP0) or Adobe (APP14) marker before the first scan, i.e. the stream itself says how colour is coded.</summary>
    public static bool HasColourMarker(ReadOnlySpan<byte> jpeg)
    {
        var i = 2;
        while (i + 9 <= jpeg.Length && jpeg[i] == 0xFF)
        {
            var m = jpeg[i + 1];
            if (m == 0xDA) break;
            if ((m == 0xE0 && jpeg.Slice(i + 4, 5).SequenceEqual("JFIF\0"u8)) || (m == 0xEE && (jpeg[i + 2] << 8 | jpeg[i + 3]) >= 14 && jpeg.Slice(i + 4, 5).SequenceEqual("Adobe"u8))) return true;
            i += 2 + (jpeg[i + 2] << 8 | jpeg[i + 3]);
        }
        return false;
    }

    JpegImage Run(bool? colorTransform)
    {
        if (_data.Length < 4 || _data[0] != 0xFF || _data[1] != 0xD8) throw new PixelDecodeException("JPEG: no SOI marker (FFD8) at the start of the frame");
        _pos = 2;
        var scans = 0;
        while (true)
        {
            var marker = NextMarker();
            if (marker < 0) { if (scans > 0) break; throw new PixelDecodeException("JPEG: stream ends before any scan"); }
            if (marker == 0xD9) break; // EOI
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // stray RSTn / TEM
            var length = ReadUInt16();
            if (length < 2 || _pos + length - 2 > _data.Length) throw new PixelDecodeException($"JPEG: marker FF{marker:X2} segment length {length} overruns the stream at byte {_pos - 2}");
            var segment = new ReadOnlySpan<byte>(_data, _pos, length - 2);
            var next = _pos + length - 2;
            switch (marker)
            {
                case 0xC0: case 0xC1: ReadFrameHeader(segment, lossless: false); break;
                case 0xC3: ReadFrameHeader(segment, lossless: true); break;
                case 0xC2: throw new PixelDecodeException("JPEG: progressive DCT (SOF2) is not supported");
                case 0xC5: case 0xC6: case 0xC7: throw new PixelDecodeException("JPEG: hierarchical (SOF5–7) is not supported");
                case >= 0xC9 and <= 0xCF when marker != 0xCC: throw new PixelDecodeException("JPEG: arithmetic coding (SOF9–15) is not supported");
                case 0xC4: ReadHuffmanTables(segment); break;
                case 0xDB: ReadQuantTables(segment); break;
                case 0xDD: _restartInterval = segment.Length >= 2 ? segment[0] << 8 | segment[1] : 0; break;
                case 0xE0: if (segment.Length >= 5 && segment[..5].SequenceEqual("JFIF\0"u8)) _jfif = true; break;
                case 0xEE:
                    // A short Adobe segment without its transform byte (pydicom SC_rgb_jpeg) is read as transform 0, as GDCM does.
                    if (segment.Length >= 5 && segment[..5].SequenceEqual("Adobe"u8)) { _adobe = true; _adobeTransform = segment.Length >= 12 ? segment[11] : 0; }
                    break;
                case 0xDA:
                    _pos = next;
                    DecodeScan(segment);
                    scans++;
                    continue;
            }
            _pos = next;
        }
        if (!_frameSeen) throw new PixelDecodeException("JPEG: no frame header (SOF) found");
        return Output(colorTransform);
    }

    int NextMarker()
    {
        // Skip to the next 0xFF xx with xx not 0x00 and not fill 0xFF.
        while (_pos + 1 < _data.Length)
        {
            if (_data[_pos] == 0xFF)
            {
                var m = _data[_pos + 1];
                if (m == 0xFF) { _pos++; continue; }
                if (m != 0x00) { _pos += 2; return m; }
            }
            _pos++;
        }
        return -1;
    }

    int ReadUInt16()
    {
        if (_pos + 2 > _data.Length) throw new PixelDecodeException("JPEG: truncated marker segment");
        var v = _data[_pos] << 8 | _data[_pos + 1];
        _pos += 2;
        return v;
    }

    void ReadFrameHeader(ReadOnlySpan<byte> s, bool lossless)
    {
        if (_frameSeen) throw new PixelDecodeException("JPEG: more than one frame header");
        if (s.Length < 6) throw new PixelDecodeException("JPEG: truncated SOF segment");
        _lossless = lossless;
        _precision = s[0];
        _height = s[1] << 8 | s[2];
        _width = s[3] << 8 | s[4];
        var n = s[5];
        if (lossless ? _precision is < 2 or > 16 : _precision is not (8 or 12))
            throw new PixelDecodeException($"JPEG: sample precision {_precision} is not valid for {(lossless ? "lossless" : "DCT")} coding (T.81 B.2.2)");
        if (_height == 0) throw new PixelDecodeException("JPEG: height 0 in SOF (DNL-defined height) is not supported");
        if (_width == 0 || n is 0 or > 4 || s.Length < 6 + 3 * n) throw new PixelDecodeException($"JPEG: invalid frame header ({_width}×{_height}, {n} components)");
        if ((long)_width * _height * n > _maxPixels) throw new PixelDecodeException($"JPEG: frame of {_width}×{_height}×{n} exceeds the {_maxPixels}-sample limit");
        _components = new Component[n];
        for (var i = 0; i < n; i++)
        {
            var c = new Component { Id = s[6 + 3 * i], H = s[7 + 3 * i] >> 4, V = s[7 + 3 * i] & 15, Tq = s[8 + 3 * i] };
            if (c.H is < 1 or > 4 || c.V is < 1 or > 4 || c.Tq > 3) throw new PixelDecodeException($"JPEG: component {c.Id} has invalid sampling {c.H}×{c.V} or table {c.Tq}");
            _components[i] = c;
        }
        _hMax = _components.Max(c => c.H);
        _vMax = _components.Max(c => c.V);
        var unit = lossless ? 1 : 8;
        var mcusX = (_width + unit * _hMax - 1) / (unit * _hMax);
        var mcusY = (_height + unit * _vMax - 1) / (unit * _vMax);
        foreach (var c in _components)
        {
            c.Width = (_width * c.H + _hMax - 1) / _hMax;
            c.Height = (_height * c.V + _vMax - 1) / _vMax;
            c.BlocksPerLine = mcusX * c.H;
            c.BlocksPerColumn = mcusY * c.V;
            c.Stride = c.BlocksPerLine * unit;
            c.Plane = new int[(long)c.Stride * c.BlocksPerColumn * unit];
        }
        _frameSeen = true;
    }

    void ReadHuffmanTables(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            if (i + 17 > s.Length) throw new PixelDecodeException("JPEG: truncated DHT segment");
            var tc = s[i] >> 4; var th = s[i] & 15;
            if (tc > 1 || th > 3) throw new PixelDecodeException($"JPEG: invalid Huffman table class {tc} / id {th}");
            var counts = s.Slice(i + 1, 16);
            var total = 0;
            foreach (var c in counts) total += c;
            if (total > 256 || i + 17 + total > s.Length) throw new PixelDecodeException("JPEG: DHT segment shorter than its code counts");
            var table = HuffmanTable.Build(counts, s.Slice(i + 17, total));
            if (tc == 0) _dcTables[th] = table; else _acTables[th] = table;
            i += 17 + total;
        }
    }

    void ReadQuantTables(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            var pq = s[i] >> 4; var tq = s[i] & 15;
            if (tq > 3 || pq > 1) throw new PixelDecodeException($"JPEG: invalid quantization table {tq} precision {pq}");
            var size = pq == 0 ? 64 : 128;
            if (i + 1 + size > s.Length) throw new PixelDecodeException("JPEG: truncated DQT segment");
            var q = new int[64];
            for (var k = 0; k < 64; k++) q[k] = pq == 0 ? s[i + 1 + k] : s[i + 1 + 2 * k] << 8 | s[i + 2 + 2 * k];
            _quant[tq] = q; // zig-zag order, as coefficients arrive
            i += 1 + size;
        }
    }

    void DecodeScan(ReadOnlySpan<byte> s)
    {
        if (!_frameSeen) throw new PixelDecodeException("JPEG: scan before frame header");
        var ns = s.Length > 0 ? s[0] : 0;
        if (ns is < 1 or > 4 || s.Length < 1 + 2 * ns + 3) throw new PixelDecodeException("JPEG: invalid scan header");
        var comps = new Component[ns];
        for (var i = 0; i < ns; i++)
        {
            var id = s[1 + 2 * i];
            var c = Array.Find(_components, x => x.Id == id) ?? throw new PixelDecodeException($"JPEG: scan names component {id}, not in the frame");
            var td = s[2 + 2 * i] >> 4; var ta = s[2 + 2 * i] & 15;
            c.Dc = td < 4 ? _dcTables[td] : null;
            c.Ac = ta < 4 ? _acTables[ta] : null;
            if (c.Dc == null) throw new PixelDecodeException($"JPEG: component {id} uses Huffman table {td}, not defined");
            if (!_lossless && c.Ac == null) throw new PixelDecodeException($"JPEG: component {id} uses AC table {ta}, not defined");
            if (!_lossless && _quant[c.Tq] == null) throw new PixelDecodeException($"JPEG: component {id} uses quantization table {c.Tq}, not defined");
            // Fuzz finding (fuzz/regressions/jpeg-repeated-scans.dcm): every scan decodes its components over the whole
            // image, so a stream of thousands of 14-byte SOS headers cost scans × pixels (2 s for 56 KB at 100×100×3,
            // minutes for larger images). In the sequential and lossless processes each component is coded in exactly
            // one scan (T.81 §4.10, B.2.3); a second one is malformed.
            if (c.Scanned) throw new PixelDecodeException($"JPEG: component {id} is coded by more than one scan (T.81 §4.10: sequential and lossless processes code each component once)");
            c.Scanned = true;
            comps[i] = c;
        }
        var ss = s[1 + 2 * ns];
        var al = s[3 + 2 * ns] & 15;
        _bits = 0; _bitCount = 0; _hitMarker = false;
        if (_lossless) DecodeLosslessScan(comps, predictor: ss, pointTransform: al);
        else DecodeDctScan(comps);
    }

    // ---- entropy-coded data ----

    void Fill()
    {
        while (_bitCount <= 56)
        {
            ulong b = 0;
            if (!_hitMarker && _pos < _data.Length)
            {
                b = _data[_pos];
                if (b == 0xFF)
                {
                    var next = _pos + 1 < _data.Length ? _data[_pos + 1] : 0xD9;
                    if (next == 0x00) _pos += 2;
                    else { _hitMarker = true; b = 0; } // leave the marker for the caller
                }
                else _pos++;
            }
            // past the data or at a marker: feed zeros (a corrupt stream decodes to garbage, not a hang)
            _bits |= b << (56 - _bitCount);
            _bitCount += 8;
        }
    }

    int GetBits(int n)
    {
        if (n == 0) return 0;
        if (_bitCount < n) Fill();
        var v = (int)(_bits >> (64 - n));
        _bits <<= n; _bitCount -= n;
        return v;
    }

    static int Extend(int v, int n) => n == 0 ? 0 : v < 1 << (n - 1) ? v - (1 << n) + 1 : v;

    int DecodeHuffman(HuffmanTable t)
    {
        if (_bitCount < 16) Fill();
        var look = (int)(_bits >> (64 - HuffmanTable.FastBits));
        var e = t.Fast[look];
        if (e != 0)
        {
            var len = e >> 8;
            _bits <<= len; _bitCount -= len;
            return e & 0xFF;
        }
        for (var len = HuffmanTable.FastBits + 1; len <= 16; len++)
        {
            var code = (int)(_bits >> (64 - len));
            if (code <= t.MaxCode[len])
            {
                _bits <<= len; _bitCount -= len;
                var idx = t.ValPtr[len] + code - t.MinCode[len];
                if ((uint)idx >= (uint)t.Values.Length) break;
                return t.Values[idx];
            }
        }
        throw new PixelDecodeException($"JPEG: invalid Huffman code in the entropy-coded data near byte {_pos}");
    }

    /// <summary>At a restart interval boundary: drop leftover bits, expect RSTn (T.81 E.1.4).</summary>
    void Restart()
    {
        _bits = 0; _bitCount = 0; _hitMarker = false;
        while (_pos + 1 < _data.Length && !(_data[_pos] == 0xFF && _data[_pos + 1] is >= 0xD0 and <= 0xD7)) _pos++;
        if (_pos + 1 < _data.Length) _pos += 2;
        else throw new PixelDecodeException("JPEG: missing restart marker (RSTn) at a restart interval boundary");
        foreach (var c in _components) c.DcPred = 0;
    }

    void DecodeDctScan(Component[] comps)
    {
        var single = comps.Length == 1;
        int mcusX, mcusY;
        if (single)
        {
            mcusX = (comps[0].Width + 7) / 8;
            mcusY = (comps[0].Height + 7) / 8;
        }
        else
        {
            mcusX = (_width + 8 * _hMax - 1) / (8 * _hMax);
            mcusY = (_height + 8 * _vMax - 1) / (8 * _vMax);
        }
        foreach (var c in comps) c.DcPred = 0;
        Span<int> coef = stackalloc int[64];
        Span<float> tmp = stackalloc float[64];
        var total = mcusX * mcusY;
        var maxValue = (1 << _precision) - 1;
        var shift = 1 << (_precision - 1);
        for (var mcu = 0; mcu < total; mcu++)
        {
            if (_restartInterval > 0 && mcu > 0 && mcu % _restartInterval == 0) Restart();
            var mx = mcu % mcusX; var my = mcu / mcusX;
            foreach (var c in comps)
            {
                var bh = single ? 1 : c.H; var bv = single ? 1 : c.V;
                for (var by = 0; by < bv; by++)
                    for (var bx = 0; bx < bh; bx++)
                    {
                        DecodeBlock(c, coef);
                        var col = (mx * bh + bx) * 8; var row = (my * bv + by) * 8;
                        Idct(coef, tmp, c.Plane, row * c.Stride + col, c.Stride, shift, maxValue);
                    }
            }
        }
    }

    void DecodeBlock(Component c, Span<int> coef)
    {
        coef.Clear();
        var q = _quant[c.Tq];
        var t = DecodeHuffman(c.Dc!);
        if (t > 16) throw new PixelDecodeException("JPEG: DC difference category over 16");
        c.DcPred += Extend(GetBits(t), t);
        coef[0] = c.DcPred * q[0];
        var ac = c.Ac!;
        for (var k = 1; k < 64;)
        {
            var rs = DecodeHuffman(ac);
            var r = rs >> 4; var sz = rs & 15;
            if (sz == 0)
            {
                if (r != 15) break; // EOB
                k += 16;
                continue;
            }
            k += r;
            if (k > 63) throw new PixelDecodeException("JPEG: AC run past the end of the block (corrupt data)");
            coef[ZigZag[k]] = Extend(GetBits(sz), sz) * q[k];
            k++;
        }
    }

    /// <summary>Separable float inverse DCT (T.81 A.3.3) with level shift and clamping.</summary>
    static void Idct(Span<int> coef, Span<float> tmp, int[] plane, int at, int stride, int shift, int maxValue)
    {
        var t = IdctTable;
        // rows: tmp[y][x] = sum_u C(u) F(y,u) cos
        for (var y = 0; y < 8; y++)
        {
            var r = coef.Slice(y * 8, 8);
            if (r[1] == 0 && r[2] == 0 && r[3] == 0 && r[4] == 0 && r[5] == 0 && r[6] == 0 && r[7] == 0)
            {
                var dc = r[0] * t[0];
                for (var x = 0; x < 8; x++) tmp[y * 8 + x] = dc;
                continue;
            }
            for (var x = 0; x < 8; x++)
            {
                float s = 0;
                for (var u = 0; u < 8; u++) s += t[x * 8 + u] * r[u];
                tmp[y * 8 + x] = s;
            }
        }
        for (var x = 0; x < 8; x++)
            for (var y = 0; y < 8; y++)
            {
                float s = 0;
                for (var v = 0; v < 8; v++) s += t[y * 8 + v] * tmp[v * 8 + x];
                var value = (int)MathF.Round(s) + shift;
                plane[at + y * stride + x] = value < 0 ? 0 : value > maxValue ? maxValue : value;
            }
    }

    /// <summary>Lossless (T.81 H.1): prediction from neighbours, Huffman-coded differences modulo 2^16, then the point transform.</summary>
    void DecodeLosslessScan(Component[] comps, int predictor, int pointTransform)
    {
        if (predictor is < 1 or > 7) // 0 is only for hierarchical mode (T.81 Table H.1)
            throw new PixelDecodeException($"JPEG lossless: predictor (Ss) {predictor} is not 1–7");
        if (comps.Length > 1 && comps.Any(c => c.H != 1 || c.V != 1))
            throw new PixelDecodeException("JPEG lossless: interleaved scans with subsampled components are not supported");
        var width = comps.Length == 1 ? comps[0].Width : _width;
        var height = comps.Length == 1 ? comps[0].Height : _height;
        var initial = 1 << (_precision - pointTransform - 1);
        var n = comps.Length;
        var mcu = 0;
        var restartRow = true; // first line of the scan or of a restart interval uses predictor 1
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (_restartInterval > 0 && mcu > 0 && mcu % _restartInterval == 0)
                {
                    Restart();
                    restartRow = true;
                    // a restart begins a new "first line": the first sample takes 2^(P−Pt−1)
                    for (var i = 0; i < n; i++) PredictAndStore(comps[i], x, y, width, predictor, initial, true, true);
                    mcu++;
                    continue;
                }
                for (var i = 0; i < n; i++) PredictAndStore(comps[i], x, y, width, predictor, initial, restartRow, x == 0 && restartRow);
                mcu++;
            }
            restartRow = false;
        }
        if (pointTransform > 0)
            foreach (var c in comps)
            {
                var p = c.Plane;
                for (var i = 0; i < p.Length; i++) p[i] <<= pointTransform;
            }
    }

    void PredictAndStore(Component c, int x, int y, int width, int predictor, int initial, bool firstLine, bool firstSample)
    {
        var p = c.Plane;
        var at = y * c.Stride + x;
        int px;
        if (firstSample) px = initial;
        else if (firstLine) px = p[at - 1];
        else if (x == 0) px = p[at - c.Stride];
        else
        {
            int ra = p[at - 1], rb = p[at - c.Stride], rc = p[at - c.Stride - 1];
            px = predictor switch
            {
                1 => ra,
                2 => rb,
                3 => rc,
                4 => ra + rb - rc,
                5 => ra + ((rb - rc) >> 1),
                6 => rb + ((ra - rc) >> 1),
                _ => (ra + rb) >> 1,
            };
        }
        var t = DecodeHuffman(c.Dc!);
        int diff;
        if (t == 16) diff = 32768; // T.81 H.1.2.2: SSSS 16 has no extra bits
        else if (t > 16) throw new PixelDecodeException("JPEG lossless: difference category over 16");
        else diff = Extend(GetBits(t), t);
        p[at] = (px + diff) & 0xFFFF;
    }

    JpegImage Output(bool? colorTransform)
    {
        var n = _components.Length;
        var planes = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var c = _components[i];
            var dst = new int[_width * _height];
            if (c.H == _hMax && c.V == _vMax)
                for (var y = 0; y < _height; y++) Array.Copy(c.Plane, y * c.Stride, dst, y * _width, _width);
            else
            {
                // Replicate subsampled samples (T.81 A.1.1 sampling; libjpeg's "fancy" smoothing is not applied).
                for (var y = 0; y < _height; y++)
                {
                    var sy = y * c.V / _vMax;
                    for (var x = 0; x < _width; x++) dst[y * _width + x] = c.Plane[sy * c.Stride + x * c.H / _hMax];
                }
            }
            planes[i] = dst;
        }
        // libjpeg's rule for colour (jdapimin.c): JFIF → YCbCr, Adobe transform flag decides, else the caller (DICOM photometric).
        var convert = false;
        if (!_lossless && n == 3)
        {
            if (_adobe) convert = _adobeTransform != 0;
            else if (_jfif) convert = true;
            else convert = colorTransform ?? !(_components[0].Id == 'R' && _components[1].Id == 'G' && _components[2].Id == 'B');
        }
        if (convert) YCbCrToRgb(planes, _precision);
        return new JpegImage { Width = _width, Height = _height, Precision = _precision, Planes = planes, ConvertedToRgb = convert, Lossless = _lossless };
    }

    /// <summary>JFIF / T.871 full-range YCbCr → RGB (the same equations as PS3.3 C.7.6.3.1.2 YBR_FULL).</summary>
    static void YCbCrToRgb(int[][] p, int precision)
    {
        var max = (1 << precision) - 1;
        var half = 1 << (precision - 1);
        int[] y = p[0], cb = p[1], cr = p[2];
        for (var i = 0; i < y.Length; i++)
        {
            double Y = y[i], Cb = cb[i] - half, Cr = cr[i] - half;
            var r = (int)Math.Round(Y + 1.402 * Cr);
            var g = (int)Math.Round(Y - 0.344136 * Cb - 0.714136 * Cr);
            var b = (int)Math.Round(Y + 1.772 * Cb);
            y[i] = Math.Clamp(r, 0, max); cb[i] = Math.Clamp(g, 0, max); cr[i] = Math.Clamp(b, 0, max);
        }
    }
}
