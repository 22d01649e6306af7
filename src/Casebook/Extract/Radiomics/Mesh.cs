namespace Casebook.Extract.Radiomics;

/// <summary>A closed triangle mesh in mm; triangle normals (right-hand rule) point out of the ROI.</summary>
public sealed class TriangleMesh
{
    public required double[] Vertices { get; init; }  // x,y,z triplets
    public required int[] Triangles { get; init; }    // vertex index triplets

    /// <summary>|Σ a·(b×c)/6|: the volume enclosed (IBSI "volume (mesh)").</summary>
    public double Volume()
    {
        double v = 0;
        for (var t = 0; t < Triangles.Length; t += 3)
        {
            int a = 3 * Triangles[t], b = 3 * Triangles[t + 1], c = 3 * Triangles[t + 2];
            var p = Vertices;
            v += p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1])
               - p[a + 1] * (p[b] * p[c + 2] - p[b + 2] * p[c])
               + p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
        }
        return Math.Abs(v) / 6;
    }

    public double Area()
    {
        double area = 0;
        for (var t = 0; t < Triangles.Length; t += 3)
        {
            int a = 3 * Triangles[t], b = 3 * Triangles[t + 1], c = 3 * Triangles[t + 2];
            var p = Vertices;
            double ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
            double vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
            double cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
            area += Math.Sqrt(cx * cx + cy * cy + cz * cz) / 2;
        }
        return area;
    }
}

/// <summary>
/// Marching cubes (Lorensen and Cline) on a binary mask at iso-level 0.5, as IBSI 1 prescribes for mesh volume and
/// area. The 256-case triangle table is derived at start-up rather than typed in: on every cube face the crossing
/// points are joined so that they separate inside from outside corners (on a face whose two inside corners are
/// diagonal, the inside corners stay joined and each outside corner is cut off on its own, which reproduces the IBSI
/// digital-phantom volume; the rule depends only on the face, so neighbouring cubes always agree); the face segments chain
/// into closed loops per cube, which are fanned into triangles oriented with their normals pointing outwards.
/// </summary>
public static class MarchingCubes
{
    // Corner c of a cube sits at offset (c&1, (c>>1)&1, (c>>2)&1). Edge e joins corners EdgeA[e] and EdgeB[e].
    static readonly int[] EdgeA = new int[12], EdgeB = new int[12];
    static readonly int[][] Table = BuildTable();

    static int EdgeOf(int a, int b)
    {
        for (var e = 0; e < 12; e++)
            if ((EdgeA[e] == a && EdgeB[e] == b) || (EdgeA[e] == b && EdgeB[e] == a)) return e;
        throw new InvalidOperationException("not a cube edge");
    }

    static double[] Corner(int c) => [c & 1, (c >> 1) & 1, (c >> 2) & 1];

    static double[] EdgePoint(int e)
    {
        var a = Corner(EdgeA[e]); var b = Corner(EdgeB[e]);
        return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
    }

    static double[] Cross(double[] u, double[] v) => [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    static double Dot(double[] u, double[] v) => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    static double[] Sub(double[] u, double[] v) => [u[0] - v[0], u[1] - v[1], u[2] - v[2]];

    static int[][] BuildTable()
    {
        var k = 0;
        for (var a = 0; a < 8; a++)
        for (var bit = 0; bit < 3; bit++)
            if ((a & (1 << bit)) == 0) { EdgeA[k] = a; EdgeB[k] = a | (1 << bit); k++; }

        // Faces: axis, side; corners in cyclic order; outward normal.
        var faces = new List<(int[] corners, double[] normal)>();
        for (var axis = 0; axis < 3; axis++)
        for (var side = 0; side < 2; side++)
        {
            int u = axis == 0 ? 1 : 0, v = axis == 2 ? 1 : 2;
            var cyc = new[] { (0, 0), (1, 0), (1, 1), (0, 1) }
                .Select(t => (side << axis) | (t.Item1 << u) | (t.Item2 << v)).ToArray();
            var n = new double[3]; n[axis] = side == 0 ? -1 : 1;
            faces.Add((cyc, n));
        }

        var table = new int[256][];
        for (var config = 0; config < 256; config++)
        {
            bool In(int c) => (config & (1 << c)) != 0;
            var next = new int[12];
            Array.Fill(next, -1);
            foreach (var (cyc, n) in faces)
            {
                var inside = cyc.Select(In).ToArray();
                var count = inside.Count(b => b);
                if (count is 0 or 4) continue;
                var centre = new double[3];
                foreach (var c in cyc) { var p = Corner(c); centre[0] += p[0] / 4; centre[1] += p[1] / 4; centre[2] += p[2] / 4; }
                // Each segment cuts off one corner (or the two adjacent corners of one side) of the face.
                var cuts = new List<int[]>();
                if (count == 2 && inside[0] == inside[2])
                {
                    for (var i = 0; i < 4; i++) if (!inside[i]) cuts.Add([i]);  // diagonal: cut off each outside corner
                }
                else if (count == 2)
                {
                    var i = Enumerable.Range(0, 4).First(j => inside[j] && inside[(j + 1) % 4]);
                    cuts.Add([i, (i + 1) % 4]);
                }
                else
                {
                    var odd = Enumerable.Range(0, 4).First(j => inside[j] == (count == 1));
                    cuts.Add([odd]);
                }
                foreach (var cut in cuts)
                {
                    int first = cut[0], last = cut[^1];
                    var e1 = EdgeOf(cyc[(first + 3) % 4], cyc[first]);
                    var e2 = EdgeOf(cyc[last], cyc[(last + 1) % 4]);
                    // m points from the inside side of the segment to the outside side within the face.
                    var cutCentre = new double[3];
                    foreach (var i in cut) { var p = Corner(cyc[i]); for (var d = 0; d < 3; d++) cutCentre[d] += p[d] / cut.Length; }
                    var m = inside[first] ? Sub(centre, cutCentre) : Sub(cutCentre, centre);
                    var dir = Cross(m, n);
                    var (from, to) = Dot(Sub(EdgePoint(e2), EdgePoint(e1)), dir) > 0 ? (e1, e2) : (e2, e1);
                    next[from] = to;
                }
            }
            var tris = new List<int>();
            var seen = new bool[12];
            for (var start = 0; start < 12; start++)
            {
                if (next[start] < 0 || seen[start]) continue;
                var loop = new List<int>();
                for (var e = start; !seen[e]; e = next[e]) { seen[e] = true; loop.Add(e); }
                // A loop of more than three points is generally not planar; of its fan triangulations take the one
                // with the largest area. Of the choices tried (first point, most/least volume, least/most area) this
                // alone reproduces the IBSI reference mesh volume, area, compactness and sphericity on the digital
                // phantom and CT configurations A and B within their tolerances.
                var bestStart = 0; var bestArea = double.NegativeInfinity;
                for (var s0 = 0; s0 < loop.Count; s0++)
                {
                    double area = 0;
                    for (var i = 1; i + 1 < loop.Count; i++)
                    {
                        var pa = EdgePoint(loop[s0]); var pb = EdgePoint(loop[(s0 + i) % loop.Count]); var pc = EdgePoint(loop[(s0 + i + 1) % loop.Count]);
                        var cr = Cross(Sub(pb, pa), Sub(pc, pa));
                        area += Math.Sqrt(Dot(cr, cr));
                    }
                    if (area > bestArea + 1e-12) { bestArea = area; bestStart = s0; }
                }
                for (var i = 1; i + 1 < loop.Count; i++)
                    tris.AddRange([loop[bestStart], loop[(bestStart + i) % loop.Count], loop[(bestStart + i + 1) % loop.Count]]);
            }
            table[config] = tris.ToArray();
        }
        return table;
    }

    /// <summary>Meshes the mask (x fastest) as if padded with one layer of outside voxels; vertices in mm from voxel (0,0,0).</summary>
    public static TriangleMesh Build(bool[] mask, int nx, int ny, int nz, double[] spacing)
    {
        var vertexIds = new Dictionary<(int, int, int), int>();
        var vertices = new List<double>();
        var triangles = new List<int>();
        bool At(int x, int y, int z) => x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz && mask[x + nx * (y + ny * z)];
        // Vertex key: doubled coordinates, so edge midpoints are integers.
        int Vertex(int x, int y, int z, int e)
        {
            var a = EdgeA[e]; var b = EdgeB[e];
            var key = (2 * x + (a & 1) + (b & 1), 2 * y + ((a >> 1) & 1) + ((b >> 1) & 1), 2 * z + ((a >> 2) & 1) + ((b >> 2) & 1));
            if (vertexIds.TryGetValue(key, out var id)) return id;
            id = vertices.Count / 3;
            vertices.Add(key.Item1 * spacing[0] / 2); vertices.Add(key.Item2 * spacing[1] / 2); vertices.Add(key.Item3 * spacing[2] / 2);
            vertexIds[key] = id;
            return id;
        }
        for (var z = -1; z < nz; z++)
        for (var y = -1; y < ny; y++)
        for (var x = -1; x < nx; x++)
        {
            var config = 0;
            for (var c = 0; c < 8; c++)
                if (At(x + (c & 1), y + ((c >> 1) & 1), z + ((c >> 2) & 1))) config |= 1 << c;
            if (config is 0 or 255) continue;
            foreach (var e in Table[config]) triangles.Add(Vertex(x, y, z, e));
        }
        return new TriangleMesh { Vertices = vertices.ToArray(), Triangles = triangles.ToArray() };
    }
}
