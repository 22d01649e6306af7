using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.LightGbm;

namespace Casebook.Findings;

/// <summary>Which learner fits a finding's classifier.</summary>
public enum FindingTrainer
{
    /// <summary>L2-regularised logistic regression (ML.NET L-BFGS) on mean/variance-normalised features: the default.</summary>
    LogisticRegression,
    /// <summary>Gradient-boosted trees (ML.NET over LightGBM).</summary>
    LightGbm,
}

/// <summary>How to fit and evaluate a classifier.</summary>
public sealed record ClassifierOptions
{
    public FindingTrainer Trainer { get; init; } = FindingTrainer.LogisticRegression;
    /// <summary>
    /// L2 weight of the logistic regression. Frozen 512-d image vectors with tens to hundreds of examples overfit without it;
    /// 1 is ML.NET's default and measured within 0.01 AUC of the best on BreastMNIST (docs/benchmarks.md).
    /// </summary>
    public float L2 { get; init; } = 1f;
    public int Folds { get; init; } = 5;
    public int LightGbmIterations { get; init; } = 200;
    public int LightGbmLeaves { get; init; } = 8;
    public double LightGbmLearningRate { get; init; } = 0.05;
    public int Seed { get; init; } = 1;
}

/// <summary>A cross-validated fit: the model, its out-of-fold AUC and the Platt calibration fitted on out-of-fold scores.</summary>
public sealed class TrainedClassifier
{
    public required ITransformer Model { get; init; }
    public required DataViewSchema InputSchema { get; init; }
    public required int FeatureLength { get; init; }
    /// <summary>AUC of the out-of-fold scores pooled over all folds (each example scored by a model that did not see it).</summary>
    public required double CvAuc { get; init; }
    public required IReadOnlyList<double> FoldAucs { get; init; }
    public required int Folds { get; init; }
    /// <summary>Platt calibration in ML.NET's convention: p = 1 / (1 + exp(Slope·score + Offset)).</summary>
    public required double PlattSlope { get; init; }
    public required double PlattOffset { get; init; }
}

/// <summary>
/// Binary classifiers over study feature vectors with ML.NET: stratified k-fold cross-validation (pooled out-of-fold AUC),
/// a Platt calibrator fitted on the out-of-fold raw scores (so probabilities reflect how the model does on studies it has not
/// seen, not its over-confident fit to its own training set), and a final model fitted on every example.
/// </summary>
public static class FindingClassifier
{
    sealed class Example
    {
        public bool Label { get; set; }
        public float[] Features { get; set; } = [];
    }

    sealed class Scored
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        // The evaluator wants it; AUC does not depend on it.
        public bool PredictedLabel { get; set; }
    }

    static SchemaDefinition Schema(int length)
    {
        var schema = SchemaDefinition.Create(typeof(Example));
        schema[nameof(Example.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, length);
        return schema;
    }

    static IDataView Load(MLContext ml, IEnumerable<(float[] X, bool Y)> rows, int length) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new Example { Label = r.Y, Features = r.X }).ToList(), Schema(length));

    static IEstimator<ITransformer> Pipeline(MLContext ml, ClassifierOptions o, int positives, int negatives) => o.Trainer switch
    {
        FindingTrainer.LightGbm => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
        {
            NumberOfIterations = o.LightGbmIterations, NumberOfLeaves = o.LightGbmLeaves, LearningRate = o.LightGbmLearningRate,
            MinimumExampleCountPerLeaf = Math.Max(2, Math.Min(20, (positives + negatives) / 20)),
            Booster = new GradientBooster.Options { FeatureFraction = 0.5 }, Seed = o.Seed, NumberOfThreads = 1, Verbose = false, Silent = true,
            // Frequencies differ a lot between findings: weigh the classes equally.
            UnbalancedSets = positives * 3 < negatives || negatives * 3 < positives,
        }),
        _ => ml.Transforms.NormalizeMeanVariance("Features")
            .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                L2Regularization = o.L2, L1Regularization = 0, NumberOfThreads = 1, OptimizationTolerance = 1e-7f, HistorySize = 20,
                ShowTrainingStatistics = false,
            })),
    };

    /// <summary>Raw (uncalibrated) scores of a fitted model for feature vectors.</summary>
    public static float[] Scores(MLContext ml, ITransformer model, IReadOnlyList<float[]> features, int length)
    {
        if (features.Count == 0) return [];
        var view = model.Transform(Load(ml, features.Select(x => (x, false)), length));
        return view.GetColumn<float>("Score").ToArray();
    }

    /// <summary>Calibrated probability of a raw score (ML.NET's Platt convention).</summary>
    public static double Probability(double score, double slope, double offset) => 1.0 / (1.0 + Math.Exp(slope * score + offset));

    /// <summary>Stratified fold of each example (deterministic for a seed): positives and negatives are dealt round-robin after a shuffle.</summary>
    public static int[] StratifiedFolds(IReadOnlyList<bool> labels, int folds, int seed)
    {
        var fold = new int[labels.Count];
        var rng = new Random(seed);
        foreach (var cls in new[] { true, false })
        {
            var idx = Enumerable.Range(0, labels.Count).Where(i => labels[i] == cls).ToArray();
            rng.Shuffle(idx);
            for (var k = 0; k < idx.Length; k++) fold[idx[k]] = k % folds;
        }
        return fold;
    }

    /// <summary>Fits with cross-validation; needs at least two positives and two negatives.</summary>
    public static TrainedClassifier Train(IReadOnlyList<(float[] X, bool Y)> examples, ClassifierOptions options)
    {
        var positives = examples.Count(e => e.Y);
        var negatives = examples.Count - positives;
        if (positives < 2 || negatives < 2) throw new ArgumentException($"a classifier needs at least 2 positive and 2 negative examples, got {positives} and {negatives}");
        var length = examples[0].X.Length;
        var ml = new MLContext(seed: options.Seed);
        var k = Math.Clamp(Math.Min(options.Folds, Math.Min(positives, negatives)), 2, 10);
        var fold = StratifiedFolds(examples.Select(e => e.Y).ToList(), k, options.Seed);
        var oof = new float[examples.Count];
        var foldAucs = new List<double>();
        for (var f = 0; f < k; f++)
        {
            var train = examples.Where((_, i) => fold[i] != f).ToList();
            var test = Enumerable.Range(0, examples.Count).Where(i => fold[i] == f).ToList();
            var model = Pipeline(ml, options, train.Count(e => e.Y), train.Count(e => !e.Y)).Fit(Load(ml, train, length));
            var s = Scores(ml, model, test.Select(i => examples[i].X).ToList(), length);
            for (var j = 0; j < test.Count; j++) oof[test[j]] = s[j];
            foldAucs.Add(Auc(ml, test.Select(i => examples[i].Y).ToList(), s));
        }
        var labels = examples.Select(e => e.Y).ToList();
        var cvAuc = Auc(ml, labels, oof);
        // Platt scaling on the out-of-fold scores (ML.NET's calibrator; its two parameters are kept with the model).
        var scoredView = ml.Data.LoadFromEnumerable(labels.Select((y, i) => new Scored { Label = y, Score = oof[i] }).ToList());
        var platt = ((ISingleFeaturePredictionTransformer<PlattCalibrator>)ml.BinaryClassification.Calibrators.Platt().Fit(scoredView)).Model;
        var final = Pipeline(ml, options, positives, negatives).Fit(Load(ml, examples, length));
        return new TrainedClassifier
        {
            Model = final, InputSchema = Load(ml, examples.Take(1), length).Schema, FeatureLength = length,
            CvAuc = cvAuc, FoldAucs = foldAucs, Folds = k, PlattSlope = platt.Slope, PlattOffset = platt.Offset,
        };
    }

    /// <summary>Area under the ROC curve of scores against labels (ML.NET's evaluator; NaN when one class is absent).</summary>
    public static double Auc(MLContext ml, IReadOnlyList<bool> labels, IReadOnlyList<float> scores)
    {
        if (labels.All(y => y) || labels.All(y => !y)) return double.NaN;
        var view = ml.Data.LoadFromEnumerable(labels.Select((y, i) => new Scored { Label = y, Score = scores[i], PredictedLabel = scores[i] > 0 }).ToList());
        return ml.BinaryClassification.EvaluateNonCalibrated(view).AreaUnderRocCurve;
    }

    public static void Save(TrainedClassifier c, string path)
    {
        var ml = new MLContext();
        ml.Model.Save(c.Model, c.InputSchema, path);
    }

    public static ITransformer Load(MLContext ml, string path)
    {
        // ML.NET finds a saved model's loaders in registered assemblies; a process that never trained (e.g. `findings
        // suggest`) has not loaded the LightGBM one yet.
        ml.ComponentCatalog.RegisterAssembly(typeof(LightGbmBinaryModelParameters).Assembly);
        return ml.Model.Load(path, out _);
    }
}
