namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// Zones — connected groups of ROI voxels with the same grey level — that the GLSZM and GLDZM count. Voxels are linked
/// across the 26-neighbourhood; within one slice's range that is the 2D 8-neighbourhood (IBSI 9SAK, Chebyshev δ=1).
/// </summary>
internal sealed class Zones
{
    /// <summary>
    /// Zone number of each voxel in the grid's z range, −1 outside the ROI; index = ROI index − <see cref="Offset"/>, so
    /// a slice's labels take one slice of memory.
    /// </summary>
    public int[] ZoneOf { get; }
    public int Offset { get; }
    public List<int> Level { get; } = [];
    public List<int> Size { get; } = [];
    public int VoxelCount { get; private set; }

    Zones(int[] zoneOf, int offset) { ZoneOf = zoneOf; Offset = offset; }

    public int Count => Level.Count;

    public static Zones Label(RoiGrid g)
    {
        var levels = g.Levels;
        int planeSize = g.Nx * g.Ny, offset = planeSize * g.Z0;
        var zoneOf = new int[planeSize * (g.Z1 - g.Z0)];
        Array.Fill(zoneOf, -1);
        var offsets = new List<(int dx, int dy, int dz)>();
        for (var dz = -1; dz <= 1; dz++)
            for (var dy = -1; dy <= 1; dy++)
                for (var dx = -1; dx <= 1; dx++)
                    if (dx != 0 || dy != 0 || dz != 0) offsets.Add((dx, dy, dz));
        var nv = 0;
        var zones = new Zones(zoneOf, offset);
        var stack = new Stack<int>();
        for (var start = offset; start < planeSize * g.Z1; start++)
        {
            var a = levels[start];
            if (a == 0) continue;
            nv++;
            if (zoneOf[start - offset] >= 0) continue;
            var id = zones.Count;
            var size = 0;
            zoneOf[start - offset] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var v = stack.Pop();
                size++;
                int x = v % g.Nx, y = v / g.Nx % g.Ny, z = v / planeSize;
                foreach (var (dx, dy, dz) in offsets)
                {
                    if (!g.Contains(x + dx, y + dy, z + dz)) continue;
                    var n = v + dx + g.Nx * (dy + g.Ny * dz);
                    if (levels[n] != a || zoneOf[n - offset] >= 0) continue;
                    zoneOf[n - offset] = id;
                    stack.Push(n);
                }
            }
            zones.Level.Add(a);
            zones.Size.Add(size);
        }
        zones.VoxelCount = nv;
        return zones;
    }

    /// <summary>The grey level size zone matrix: zones counted by (grey level, size).</summary>
    public LevelCountMatrix SizeMatrix()
    {
        var keys = new List<long>(Count);
        for (var z = 0; z < Count; z++) keys.Add(LevelCountMatrix.Key(Level[z], Size[z]));
        return LevelCountMatrix.FromItems(keys, VoxelCount);
    }

    /// <summary>
    /// The grey level distance zone matrix: zones counted by (grey level, distance), a zone's distance being the
    /// smallest distance-map value among its voxels.
    /// </summary>
    public LevelCountMatrix DistanceMatrix(int[] distance)
    {
        var min = new int[Count];
        Array.Fill(min, int.MaxValue);
        for (var k = 0; k < ZoneOf.Length; k++)
        {
            var zone = ZoneOf[k];
            if (zone < 0) continue;
            // An intensity-mask voxel outside the morphological mask has no distance of its own; count it as on the edge.
            var d = Math.Max(1, distance[k]);
            if (d < min[zone]) min[zone] = d;
        }
        var keys = new List<long>(Count);
        for (var z = 0; z < Count; z++) keys.Add(LevelCountMatrix.Key(Level[z], min[z]));
        return LevelCountMatrix.FromItems(keys, VoxelCount);
    }

    /// <summary>
    /// Distance of each morphological-mask voxel to the ROI edge (IBSI VMDZ): the number of 6-connected steps (3D) or
    /// 4-connected in-plane steps (2D) needed to leave the mask, 1 for a voxel on the edge. Computed by a breadth-first
    /// search from the edge voxels, which equals the manual's iterated erosion with the cross-shaped structure element.
    /// The grid's border counts as outside; in 2D the neighbouring slices are not part of the structure element.
    /// Indexed like <see cref="ZoneOf"/>: ROI index − first voxel of the z range.
    /// </summary>
    public static int[] DistanceMap(RoiGrid g, bool[]? morphological, bool inPlane)
    {
        var levels = g.Levels;
        bool Inside(int i) => morphological != null ? morphological[i] : levels[i] > 0;
        int planeSize = g.Nx * g.Ny, offset = planeSize * g.Z0;
        var distance = new int[planeSize * (g.Z1 - g.Z0)];
        (int dx, int dy, int dz)[] steps = inPlane
            ? [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0)]
            : [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)];
        var queue = new Queue<int>();
        for (var v = offset; v < planeSize * g.Z1; v++)
        {
            if (!Inside(v)) continue;
            int x = v % g.Nx, y = v / g.Nx % g.Ny, z = v / planeSize;
            foreach (var (dx, dy, dz) in steps)
            {
                if (g.Contains(x + dx, y + dy, z + dz) && Inside(v + dx + g.Nx * (dy + g.Ny * dz))) continue;
                distance[v - offset] = 1;
                queue.Enqueue(v);
                break;
            }
        }
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            int x = v % g.Nx, y = v / g.Nx % g.Ny, z = v / planeSize;
            foreach (var (dx, dy, dz) in steps)
            {
                if (!g.Contains(x + dx, y + dy, z + dz)) continue;
                var n = v + dx + g.Nx * (dy + g.Ny * dz);
                if (distance[n - offset] != 0 || !Inside(n)) continue;
                distance[n - offset] = distance[v - offset] + 1;
                queue.Enqueue(n);
            }
        }
        return distance;
    }
}
