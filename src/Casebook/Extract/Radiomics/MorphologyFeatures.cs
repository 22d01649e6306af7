namespace Casebook.Extract.Radiomics;

/// <summary>
/// IBSI 1 morphological features: mesh volume and area (marching cubes on the morphological mask), shape ratios,
/// PCA axes of the voxel centres, bounding-box, enclosing-ellipsoid and convex-hull densities, maximum diameter,
/// centre-of-mass shift, integrated intensity and Moran's I / Geary's C of the intensity mask.
/// </summary>
public static class MorphologyFeatures
{
    public static void Compute(ProcessedRoi roi, Dictionary<string, double> f)
    {
        int nx = roi.Nx, ny = roi.Ny, nz = roi.Nz;
        var sp = roi.Spacing;

        // Crop to the morphological mask's bounding box so meshing and sums touch only the ROI.
        int x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
        for (var z = 0; z < nz; z++)
        for (var y = 0; y < ny; y++)
        for (var x = 0; x < nx; x++)
            if (roi.MorphMask[x + nx * (y + ny * z)])
            {
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
            }
        int bx = x1 - x0 + 1, by = y1 - y0 + 1, bz = z1 - z0 + 1;
        var morph = new bool[bx * by * bz];
        var inten = new bool[morph.Length];
        var img = new float[morph.Length];
        for (var z = 0; z < bz; z++)
        for (var y = 0; y < by; y++)
        for (var x = 0; x < bx; x++)
        {
            var src = (x + x0) + nx * ((y + y0) + ny * (z + z0));
            var dst = x + bx * (y + by * z);
            morph[dst] = roi.MorphMask[src]; inten[dst] = roi.IntensityMask[src]; img[dst] = roi.Image[src];
        }

        var mesh = MarchingCubes.Build(morph, bx, by, bz, sp);
        var v = mesh.Volume();
        var a = mesh.Area();
        var voxelVolume = sp[0] * sp[1] * sp[2];
        long nMorph = 0;
        double cx = 0, cy = 0, cz = 0;
        for (var z = 0; z < bz; z++)
        for (var y = 0; y < by; y++)
        for (var x = 0; x < bx; x++)
            if (morph[x + bx * (y + by * z)]) { nMorph++; cx += x * sp[0]; cy += y * sp[1]; cz += z * sp[2]; }
        cx /= nMorph; cy /= nMorph; cz /= nMorph;

        f["morph_volume"] = v;
        f["morph_approx_volume"] = nMorph * voxelVolume;
        f["morph_area"] = a;
        f["morph_surface_volume_ratio"] = a / v;
        f["morph_comp_1"] = v / (Math.Sqrt(Math.PI) * Math.Pow(a, 1.5));
        f["morph_comp_2"] = 36 * Math.PI * v * v / (a * a * a);
        f["morph_sph_dispr"] = a / Math.Cbrt(36 * Math.PI * v * v);
        f["morph_sphericity"] = Math.Cbrt(36 * Math.PI * v * v) / a;
        f["morph_asphericity"] = Math.Cbrt(a * a * a / (36 * Math.PI * v * v)) - 1;

        // Centre of mass shift: geometric centre of the morphological mask vs the intensity-weighted centre of the
        // intensity mask.
        double wx = 0, wy = 0, wz = 0, wsum = 0, isum = 0; long nInt = 0;
        for (var z = 0; z < bz; z++)
        for (var y = 0; y < by; y++)
        for (var x = 0; x < bx; x++)
        {
            var i = x + bx * (y + by * z);
            if (!inten[i]) continue;
            double g = img[i];
            wx += g * x * sp[0]; wy += g * y * sp[1]; wz += g * z * sp[2]; wsum += g; isum += g; nInt++;
        }
        f["morph_centre_of_mass_shift"] = Math.Sqrt(Math.Pow(cx - wx / wsum, 2) + Math.Pow(cy - wy / wsum, 2) + Math.Pow(cz - wz / wsum, 2));

        // PCA of the morphological voxel centres.
        double sxx = 0, syy = 0, szz = 0, sxy = 0, sxz = 0, syz = 0;
        for (var z = 0; z < bz; z++)
        for (var y = 0; y < by; y++)
        for (var x = 0; x < bx; x++)
        {
            if (!morph[x + bx * (y + by * z)]) continue;
            double dx = x * sp[0] - cx, dy = y * sp[1] - cy, dz = z * sp[2] - cz;
            sxx += dx * dx; syy += dy * dy; szz += dz * dz; sxy += dx * dy; sxz += dx * dz; syz += dy * dz;
        }
        // Sample covariance (N − 1), as the IBSI reference values were produced with.
        var dof = Math.Max(1, nMorph - 1);
        var ev = SymmetricEigenvalues3(sxx / dof, syy / dof, szz / dof, sxy / dof, sxz / dof, syz / dof);
        double lMajor = ev[0], lMinor = ev[1], lLeast = ev[2];
        f["morph_pca_major"] = 4 * Math.Sqrt(lMajor);
        f["morph_pca_minor"] = 4 * Math.Sqrt(lMinor);
        f["morph_pca_least"] = 4 * Math.Sqrt(lLeast);
        f["morph_pca_elongation"] = Math.Sqrt(lMinor / lMajor);
        f["morph_pca_flatness"] = Math.Sqrt(lLeast / lMajor);

        // Axis-aligned bounding box of the mesh.
        double[] lo = [double.MaxValue, double.MaxValue, double.MaxValue], hi = [double.MinValue, double.MinValue, double.MinValue];
        var vx = mesh.Vertices;
        for (var i = 0; i < vx.Length; i += 3)
            for (var d = 0; d < 3; d++) { lo[d] = Math.Min(lo[d], vx[i + d]); hi[d] = Math.Max(hi[d], vx[i + d]); }
        double ex = hi[0] - lo[0], ey = hi[1] - lo[1], ez = hi[2] - lo[2];
        f["morph_vol_dens_aabb"] = v / (ex * ey * ez);
        f["morph_area_dens_aab"] = a / (2 * (ex * ey + ex * ez + ey * ez));

        // Approximate enclosing ellipsoid from the PCA semi-axes.
        double sa = 2 * Math.Sqrt(lMajor), sb = 2 * Math.Sqrt(lMinor), sc = 2 * Math.Sqrt(lLeast);
        f["morph_vol_dens_aee"] = 3 * v / (4 * Math.PI * sa * sb * sc);
        f["morph_area_dens_aee"] = a / EllipsoidArea(sa, sb, sc);

        // Convex hull of the mesh vertices (only candidates extreme along their grid lines can be hull vertices).
        var hull = ConvexHull.Build(HullCandidates(vx));
        if (hull != null)
        {
            f["morph_vol_dens_conv_hull"] = v / hull.Volume();
            f["morph_area_dens_conv_hull"] = a / hull.Area();
            f["morph_max_3d_diam"] = MaxDiameter(hull.Vertices);
        }
        else f["morph_max_3d_diam"] = MaxDiameter(vx);

        f["morph_integrated_intensity"] = v * isum / nInt;

        var (moran, geary) = SpatialAutocorrelation.Compute(img, inten, bx, by, bz, sp);
        f["morph_moran_i"] = moran;
        f["morph_geary_c"] = geary;
    }

    /// <summary>Eigenvalues of a symmetric 3×3 matrix, largest first (closed form via the trigonometric method).</summary>
    public static double[] SymmetricEigenvalues3(double a11, double a22, double a33, double a12, double a13, double a23)
    {
        var p1 = a12 * a12 + a13 * a13 + a23 * a23;
        if (p1 <= 1e-300 * (a11 * a11 + a22 * a22 + a33 * a33 + 1e-300))
            return new[] { a11, a22, a33 }.OrderByDescending(x => x).ToArray();
        var q = (a11 + a22 + a33) / 3;
        var p2 = (a11 - q) * (a11 - q) + (a22 - q) * (a22 - q) + (a33 - q) * (a33 - q) + 2 * p1;
        var p = Math.Sqrt(p2 / 6);
        double b11 = (a11 - q) / p, b22 = (a22 - q) / p, b33 = (a33 - q) / p, b12 = a12 / p, b13 = a13 / p, b23 = a23 / p;
        var r = (b11 * (b22 * b33 - b23 * b23) - b12 * (b12 * b33 - b23 * b13) + b13 * (b12 * b23 - b22 * b13)) / 2;
        var phi = r <= -1 ? Math.PI / 3 : r >= 1 ? 0 : Math.Acos(r) / 3;
        var e1 = q + 2 * p * Math.Cos(phi);
        var e3 = q + 2 * p * Math.Cos(phi + 2 * Math.PI / 3);
        var e2 = 3 * q - e1 - e3;
        return new[] { e1, e2, e3 }.OrderByDescending(x => x).ToArray();
    }

    /// <summary>
    /// Surface area of an ellipsoid with semi-axes a ≥ b ≥ c by the Legendre series of the IBSI manual, stopped after
    /// ν = 20: 4πab Σ (αβ)^ν/(1−4ν²) P_ν((α²+β²)/(2αβ)), α = √(1−b²/a²), β = √(1−c²/a²). The terms
    /// Q_ν = (αβ)^ν P_ν(·) follow Bonnet's recurrence without dividing by αβ, so a sphere (α = β = 0) is fine.
    /// </summary>
    public static double EllipsoidArea(double a, double b, double c)
    {
        var alpha = Math.Sqrt(Math.Max(0, 1 - b * b / (a * a)));
        var beta = Math.Sqrt(Math.Max(0, 1 - c * c / (a * a)));
        var s = (alpha * alpha + beta * beta) / 2;  // x·αβ
        var ab2 = alpha * alpha * beta * beta;      // (αβ)²
        double qPrev = 1, q = s, sum = 1;           // ν = 0 term: Q0/(1-0) = 1
        sum += q / (1 - 4.0);
        for (var nu = 1; nu < 20; nu++)
        {
            var qNext = ((2 * nu + 1) * s * q - nu * ab2 * qPrev) / (nu + 1);
            qPrev = q; q = qNext;
            sum += q / (1 - 4.0 * (nu + 1) * (nu + 1));
        }
        return 4 * Math.PI * a * b * sum;
    }

    static double[] HullCandidates(double[] v)
    {
        var n = v.Length / 3;
        // Keep a vertex only if it is the minimum or maximum along its x-line, y-line and z-line: an interior point of
        // such a line cannot be a vertex of the hull.
        var keep = new bool[n];
        Array.Fill(keep, true);
        for (var axis = 0; axis < 3; axis++)
        {
            var ext = new Dictionary<(long, long), (int lo, int hi)>();
            int u = (axis + 1) % 3, w = (axis + 2) % 3;
            for (var i = 0; i < n; i++)
            {
                var key = (BitConverter.DoubleToInt64Bits(v[3 * i + u]), BitConverter.DoubleToInt64Bits(v[3 * i + w]));
                if (!ext.TryGetValue(key, out var e)) ext[key] = (i, i);
                else ext[key] = (v[3 * i + axis] < v[3 * e.lo + axis] ? i : e.lo, v[3 * i + axis] > v[3 * e.hi + axis] ? i : e.hi);
            }
            var extreme = new bool[n];
            foreach (var e in ext.Values) { extreme[e.lo] = true; extreme[e.hi] = true; }
            for (var i = 0; i < n; i++) keep[i] &= extreme[i];
        }
        var list = new List<double>();
        for (var i = 0; i < n; i++) if (keep[i]) { list.Add(v[3 * i]); list.Add(v[3 * i + 1]); list.Add(v[3 * i + 2]); }
        return list.ToArray();
    }

    static double MaxDiameter(double[] v)
    {
        double best = 0;
        for (var i = 0; i < v.Length; i += 3)
        for (var j = i + 3; j < v.Length; j += 3)
        {
            double dx = v[i] - v[j], dy = v[i + 1] - v[j + 1], dz = v[i + 2] - v[j + 2];
            best = Math.Max(best, dx * dx + dy * dy + dz * dz);
        }
        return Math.Sqrt(best);
    }
}
