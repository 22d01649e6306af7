namespace Casebook.Extract.Radiomics;

/// <summary>
/// 3-D convex hull by incremental construction (add a point, remove the faces it sees, close the horizon with new faces).
/// Used for the convex-hull densities and the maximum 3-D diameter of the ROI mesh.
/// </summary>
public static class ConvexHull
{
    /// <summary>The hull of x,y,z triplets as a mesh whose face normals point outwards; null when the points are flat.</summary>
    public static TriangleMesh? Build(double[] points)
    {
        var n = points.Length / 3;
        if (n < 4) return null;
        double X(int i) => points[3 * i]; double Y(int i) => points[3 * i + 1]; double Z(int i) => points[3 * i + 2];
        double scale = 0;
        for (var i = 0; i < points.Length; i++) scale = Math.Max(scale, Math.Abs(points[i]));
        var eps = 1e-9 * Math.Max(1, scale);

        // Initial tetrahedron: extreme x, farthest from it, farthest from that line, farthest from that plane.
        int p0 = 0, p1 = 0;
        for (var i = 1; i < n; i++) { if (X(i) < X(p0)) p0 = i; if (X(i) > X(p1)) p1 = i; }
        double Dist2(int a, int b) => (X(a) - X(b)) * (X(a) - X(b)) + (Y(a) - Y(b)) * (Y(a) - Y(b)) + (Z(a) - Z(b)) * (Z(a) - Z(b));
        if (Dist2(p0, p1) < eps * eps) for (var i = 0; i < n; i++) if (Dist2(p0, i) > Dist2(p0, p1)) p1 = i;
        int p2 = -1; double best = eps;
        for (var i = 0; i < n; i++)
        {
            var c = CrossAt(points, p0, p1, i);
            var l = Math.Sqrt(c.x * c.x + c.y * c.y + c.z * c.z);
            if (l > best) { best = l; p2 = i; }
        }
        if (p2 < 0) return null;
        int p3 = -1; best = eps * Math.Max(1, scale);
        var nrm = CrossAt(points, p0, p1, p2);
        for (var i = 0; i < n; i++)
        {
            var d = Math.Abs(nrm.x * (X(i) - X(p0)) + nrm.y * (Y(i) - Y(p0)) + nrm.z * (Z(i) - Z(p0)));
            if (d > best) { best = d; p3 = i; }
        }
        if (p3 < 0) return null;

        var faces = new List<Face>();
        void AddFace(int a, int b, int c)
        {
            var cr = CrossAt(points, a, b, c);
            var len = Math.Sqrt(cr.x * cr.x + cr.y * cr.y + cr.z * cr.z);
            var f = new Face(a, b, c, cr.x / len, cr.y / len, cr.z / len);
            f.D = f.Nx * X(a) + f.Ny * Y(a) + f.Nz * Z(a);
            faces.Add(f);
        }
        // Orient the tetrahedron so that p3 is behind face (p0,p1,p2).
        var side = nrm.x * (X(p3) - X(p0)) + nrm.y * (Y(p3) - Y(p0)) + nrm.z * (Z(p3) - Z(p0));
        if (side > 0) (p1, p2) = (p2, p1);
        AddFace(p0, p1, p2); AddFace(p0, p3, p1); AddFace(p1, p3, p2); AddFace(p2, p3, p0);

        var order = Enumerable.Range(0, n).ToArray();
        new Random(12345).Shuffle(order);
        var edges = new HashSet<(int, int)>();
        foreach (var p in order)
        {
            if (p == p0 || p == p1 || p == p2 || p == p3) continue;
            double px = X(p), py = Y(p), pz = Z(p);
            edges.Clear();
            var anyVisible = false;
            foreach (var f in faces)
            {
                f.Visible = f.Nx * px + f.Ny * py + f.Nz * pz - f.D > eps;
                if (!f.Visible) continue;
                anyVisible = true;
                edges.Add((f.A, f.B)); edges.Add((f.B, f.C)); edges.Add((f.C, f.A));
            }
            if (!anyVisible) continue;
            faces.RemoveAll(f => f.Visible);
            // Horizon: directed edges of visible faces whose reverse belongs to no visible face.
            foreach (var (a, b) in edges.ToList())
                if (!edges.Contains((b, a))) AddFace(a, b, p);
        }

        var used = new Dictionary<int, int>();
        var verts = new List<double>();
        var tris = new List<int>();
        foreach (var f in faces)
            foreach (var v in new[] { f.A, f.B, f.C })
            {
                if (!used.TryGetValue(v, out var id))
                {
                    id = used.Count; used[v] = id;
                    verts.Add(X(v)); verts.Add(Y(v)); verts.Add(Z(v));
                }
                tris.Add(id);
            }
        return new TriangleMesh { Vertices = verts.ToArray(), Triangles = tris.ToArray() };
    }

    static (double x, double y, double z) CrossAt(double[] p, int a, int b, int c)
    {
        double ux = p[3 * b] - p[3 * a], uy = p[3 * b + 1] - p[3 * a + 1], uz = p[3 * b + 2] - p[3 * a + 2];
        double vx = p[3 * c] - p[3 * a], vy = p[3 * c + 1] - p[3 * a + 1], vz = p[3 * c + 2] - p[3 * a + 2];
        return (uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx);
    }

    sealed class Face(int a, int b, int c, double nx, double ny, double nz)
    {
        public int A = a, B = b, C = c;
        public double Nx = nx, Ny = ny, Nz = nz, D;
        public bool Visible;
    }
}
