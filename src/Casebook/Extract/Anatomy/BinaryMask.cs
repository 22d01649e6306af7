using Casebook.Extract.Volumes;

namespace Casebook.Extract.Anatomy;

/// <summary>
/// A boolean mask on a volume's grid with the few morphology operations the rule-based anatomy needs: connected
/// components, per-slice hole filling, per-slice convex hulls, dilation and erosion. Index order is the volume's
/// (x fastest), so a mask and its <see cref="ImageVolume"/> share indices.
/// </summary>
public sealed class BinaryMask
{
    public BinaryMask(int nx, int ny, int nz) { Nx = nx; Ny = ny; Nz = nz; Bits = new bool[nx * ny * nz]; }
    public BinaryMask(ImageVolume grid) : this(grid.Nx, grid.Ny, grid.Nz) { }

    public int Nx { get; }
    public int Ny { get; }
    public int Nz { get; }
    public bool[] Bits { get; }
    public int SliceSize => Nx * Ny;

    public int Count() { var n = 0; foreach (var b in Bits) if (b) n++; return n; }

    public static BinaryMask Threshold(ImageVolume v, Func<float, bool> inside)
    {
        var m = new BinaryMask(v);
        for (var i = 0; i < v.Count; i++) m.Bits[i] = inside(v.Voxels[i]);
        return m;
    }

    public BinaryMask Clone()
    {
        var m = new BinaryMask(Nx, Ny, Nz);
        Array.Copy(Bits, m.Bits, Bits.Length);
        return m;
    }

    public BinaryMask And(BinaryMask o) { var m = Clone(); for (var i = 0; i < Bits.Length; i++) m.Bits[i] &= o.Bits[i]; return m; }
    public BinaryMask Or(BinaryMask o) { var m = Clone(); for (var i = 0; i < Bits.Length; i++) m.Bits[i] |= o.Bits[i]; return m; }
    public BinaryMask AndNot(BinaryMask o) { var m = Clone(); for (var i = 0; i < Bits.Length; i++) m.Bits[i] &= !o.Bits[i]; return m; }

    /// <summary>
    /// 3-D connected components (6-connectivity). Returns a label per voxel (0 = outside the mask, 1.. = component)
    /// and the voxel count of each label (index 0 unused). Labels are numbered in scan order, so results are deterministic.
    /// </summary>
    public (int[] Labels, List<int> Sizes) Components()
    {
        var labels = new int[Bits.Length];
        var sizes = new List<int> { 0 };
        var queue = new int[Bits.Length];
        for (var start = 0; start < Bits.Length; start++)
        {
            if (!Bits[start] || labels[start] != 0) continue;
            var label = sizes.Count;
            int head = 0, tail = 0, size = 0;
            queue[tail++] = start;
            labels[start] = label;
            while (head < tail)
            {
                var i = queue[head++];
                size++;
                int x = i % Nx, y = i / Nx % Ny, z = i / SliceSize;
                void Visit(int j) { if (Bits[j] && labels[j] == 0) { labels[j] = label; queue[tail++] = j; } }
                if (x > 0) Visit(i - 1);
                if (x < Nx - 1) Visit(i + 1);
                if (y > 0) Visit(i - Nx);
                if (y < Ny - 1) Visit(i + Nx);
                if (z > 0) Visit(i - SliceSize);
                if (z < Nz - 1) Visit(i + SliceSize);
            }
            sizes.Add(size);
        }
        return (labels, sizes);
    }

    /// <summary>The largest 3-D connected component (ties: the first in scan order); empty when the mask is.</summary>
    public BinaryMask LargestComponent() => KeepComponents((sizes) =>
    {
        var best = 0;
        for (var l = 1; l < sizes.Count; l++) if (best == 0 || sizes[l] > sizes[best]) best = l;
        return best == 0 ? [] : [best];
    });

    /// <summary>Keeps the components a selector picks from the size list.</summary>
    public BinaryMask KeepComponents(Func<List<int>, IEnumerable<int>> select)
    {
        var (labels, sizes) = Components();
        var keep = new HashSet<int>(select(sizes));
        var m = new BinaryMask(Nx, Ny, Nz);
        for (var i = 0; i < Bits.Length; i++) m.Bits[i] = labels[i] != 0 && keep.Contains(labels[i]);
        return m;
    }

    /// <summary>Per axial slice, fills background regions that do not touch the slice border (4-connectivity).</summary>
    public BinaryMask FillHolesPerSlice()
    {
        var m = Clone();
        var outside = new bool[SliceSize];
        var stack = new Stack<int>();
        for (var z = 0; z < Nz; z++)
        {
            var o = z * SliceSize;
            Array.Clear(outside);
            void Seed(int x, int y) { var j = x + y * Nx; if (!Bits[o + j] && !outside[j]) { outside[j] = true; stack.Push(j); } }
            for (var x = 0; x < Nx; x++) { Seed(x, 0); Seed(x, Ny - 1); }
            for (var y = 0; y < Ny; y++) { Seed(0, y); Seed(Nx - 1, y); }
            while (stack.Count > 0)
            {
                var j = stack.Pop();
                int x = j % Nx, y = j / Nx;
                if (x > 0) Seed(x - 1, y);
                if (x < Nx - 1) Seed(x + 1, y);
                if (y > 0) Seed(x, y - 1);
                if (y < Ny - 1) Seed(x, y + 1);
            }
            for (var j = 0; j < SliceSize; j++) if (!outside[j]) m.Bits[o + j] = true;
        }
        return m;
    }

    /// <summary>Per axial slice, the filled convex hull of the slice's voxels (pixel centres; monotone chain).</summary>
    public BinaryMask ConvexHullPerSlice()
    {
        var m = new BinaryMask(Nx, Ny, Nz);
        for (var z = 0; z < Nz; z++)
        {
            var o = z * SliceSize;
            var points = new List<(int X, int Y)>();
            // Only the first and last voxel of each row can be hull vertices.
            for (var y = 0; y < Ny; y++)
            {
                int first = -1, last = -1;
                for (var x = 0; x < Nx; x++) if (Bits[o + x + y * Nx]) { if (first < 0) first = x; last = x; }
                if (first >= 0) { points.Add((first, y)); if (last != first) points.Add((last, y)); }
            }
            if (points.Count == 0) continue;
            var hull = Hull(points);
            for (var y = 0; y < Ny; y++)
                for (var x = 0; x < Nx; x++)
                    if (Inside(hull, x, y)) m.Bits[o + x + y * Nx] = true;
        }
        return m;
    }

    static List<(int X, int Y)> Hull(List<(int X, int Y)> points)
    {
        var p = points.Distinct().OrderBy(q => q.X).ThenBy(q => q.Y).ToList();
        if (p.Count < 3) return p;
        static long Cross((int X, int Y) o, (int X, int Y) a, (int X, int Y) b) => (long)(a.X - o.X) * (b.Y - o.Y) - (long)(a.Y - o.Y) * (b.X - o.X);
        var h = new List<(int X, int Y)>();
        foreach (var q in p) { while (h.Count >= 2 && Cross(h[^2], h[^1], q) <= 0) h.RemoveAt(h.Count - 1); h.Add(q); }
        var lower = h.Count + 1;
        for (var i = p.Count - 2; i >= 0; i--) { while (h.Count >= lower && Cross(h[^2], h[^1], p[i]) <= 0) h.RemoveAt(h.Count - 1); h.Add(p[i]); }
        h.RemoveAt(h.Count - 1);
        return h;
    }

    /// <summary>Point in (or on) a counter-clockwise convex polygon; degenerate hulls (points, segments) test on the segment.</summary>
    static bool Inside(List<(int X, int Y)> hull, int x, int y)
    {
        if (hull.Count == 1) return hull[0].X == x && hull[0].Y == y;
        if (hull.Count == 2)
        {
            var (a, b) = (hull[0], hull[1]);
            var cross = (long)(b.X - a.X) * (y - a.Y) - (long)(b.Y - a.Y) * (x - a.X);
            return cross == 0 && x >= Math.Min(a.X, b.X) && x <= Math.Max(a.X, b.X) && y >= Math.Min(a.Y, b.Y) && y <= Math.Max(a.Y, b.Y);
        }
        for (var i = 0; i < hull.Count; i++)
        {
            var a = hull[i];
            var b = hull[(i + 1) % hull.Count];
            if ((long)(b.X - a.X) * (y - a.Y) - (long)(b.Y - a.Y) * (x - a.X) < 0) return false;
        }
        return true;
    }

    /// <summary>Binary dilation with the 6-neighbourhood (in-plane only when <paramref name="inPlane"/>), repeated.</summary>
    public BinaryMask Dilate(int iterations = 1, bool inPlane = false) => Morph(iterations, inPlane, dilate: true);

    /// <summary>Binary erosion with the 6-neighbourhood (in-plane only when <paramref name="inPlane"/>); the grid edge counts as background.</summary>
    public BinaryMask Erode(int iterations = 1, bool inPlane = false) => Morph(iterations, inPlane, dilate: false);

    BinaryMask Morph(int iterations, bool inPlane, bool dilate)
    {
        var current = this;
        for (var it = 0; it < iterations; it++)
        {
            var src = current.Bits;
            var next = new BinaryMask(Nx, Ny, Nz);
            for (var i = 0; i < src.Length; i++)
            {
                int x = i % Nx, y = i / Nx % Ny, z = i / SliceSize;
                if (dilate)
                {
                    next.Bits[i] = src[i]
                        || (x > 0 && src[i - 1]) || (x < Nx - 1 && src[i + 1])
                        || (y > 0 && src[i - Nx]) || (y < Ny - 1 && src[i + Nx])
                        || (!inPlane && ((z > 0 && src[i - SliceSize]) || (z < Nz - 1 && src[i + SliceSize])));
                }
                else
                {
                    next.Bits[i] = src[i]
                        && x > 0 && src[i - 1] && x < Nx - 1 && src[i + 1]
                        && y > 0 && src[i - Nx] && y < Ny - 1 && src[i + Nx]
                        && (inPlane || (z > 0 && src[i - SliceSize] && z < Nz - 1 && src[i + SliceSize]) || Nz == 1);
                }
            }
            current = next;
        }
        return current;
    }

    /// <summary>The mask as a 0/1 volume on the given grid (for NIfTI output or radiomics).</summary>
    public ImageVolume ToVolume(ImageVolume grid)
    {
        var v = grid.EmptyLike();
        for (var i = 0; i < Bits.Length; i++) if (Bits[i]) v.Voxels[i] = 1;
        return v;
    }

    public static BinaryMask FromVolume(ImageVolume mask, float threshold = 0.5f) => Threshold(mask, v => v >= threshold);
}
