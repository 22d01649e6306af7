using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Casebook.Server.Audit;
using Casebook.Server.Endpoints;
using Casebook.Server.Feeds;
using Casebook.Server.Feeds.Dimse;
using Casebook.Server.Feeds.Hl7;
using Casebook.Server.Jobs;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;

namespace Casebook.Server;

/// <summary>
/// The Casebook HTTP server: minimal APIs on Kestrel over one open <see cref="CasebookDb"/>. Middleware order matters:
/// errors → problem details, routing, authentication, rate limit (per caller), audit (wraps authorization so refusals
/// are recorded too), authorization, endpoints.
/// </summary>
public sealed class CasebookServer : IAsyncDisposable
{
    public WebApplication App { get; }
    public CasebookDb Db { get; }
    public ServerOptions Options { get; }

    /// <summary>The coordinator when serving a cluster (<see cref="ServerOptions.ClusterFile"/>), else null.</summary>
    public Casebook.Cluster.ClusterClient? Cluster { get; }

    CasebookServer(WebApplication app, CasebookDb db, ServerOptions options, Casebook.Cluster.ClusterClient? cluster) { App = app; Db = db; Options = options; Cluster = cluster; }

    /// <summary>The addresses Kestrel listens on (with the real port when <see cref="ServerOptions.Port"/> was 0); after start.</summary>
    public IReadOnlyList<string> Urls => App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();

    public static CasebookServer Create(ServerOptions options, Action<ILoggingBuilder>? logging = null)
    {
        options.Validate();
        var cluster = options.ClusterFile != null ? Casebook.Server.Cluster.ClusterServing.Connect(options) : null;
        var store = new ServerStore(options.DbDirectory);
        var db = CasebookDb.Open(options.DbDirectory, new CasebookOptions { KeyFile = options.KeyFile });
        var signingKey = CasebookAuth.LoadSigningKey(options.JwtKeyFile, db.Directory);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (logging != null) logging(builder.Logging);
        else
        {
            // Logs go to stderr: stdout carries only answers (the serve verb prints its address there).
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes; // raised per endpoint for uploads
            var address = options.Bind == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Bind);
            k.Listen(address, options.Port, listen =>
            {
                if (options.TlsCertPath != null) listen.UseHttps(LoadCertificate(options));
            });
        });
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(store);
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton(new TokenSigningKey(signingKey));
        if (cluster == null)
        {
            services.AddSingleton(db);
            services.AddSingleton<IngestJobs>();
            services.AddSingleton<SliceRenderer>();
            services.AddSingleton<DicomWeb.DicomWebIndex>(); // DICOMweb: the served instances and their QIDO attributes
            services.AddSingleton<DicomWeb.DicomWebSource>(sp => sp.GetRequiredService<DicomWeb.DicomWebIndex>());
            AddFeeds(services, options);
        }
        else Casebook.Server.Cluster.ClusterServing.AddServices(services, options, cluster); // the local db holds only keys and audit: never served
        // No cookies or antiforgery tokens are issued, so nothing needs persistent data-protection keys.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<FormOptions>(f => { f.MultipartBodyLengthLimit = options.MaxIngestBytes; f.ValueCountLimit = 64; });
        CasebookAuth.Add(services, signingKey);
        services.AddRateLimiter(r =>
        {
            r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            r.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
                ctx.Request.Path.StartsWithSegments("/health")
                    ? RateLimitPartition.GetNoLimiter("health")
                    : RateLimitPartition.GetFixedWindowLimiter(ctx.User.Identity?.IsAuthenticated == true ? CasebookAuth.Actor(ctx.User) : "ip:" + CasebookAuth.Remote(ctx),
                        _ => new FixedWindowRateLimiterOptions { PermitLimit = options.RequestsPerWindow, Window = options.RateWindow, QueueLimit = 0 }));
            r.OnRejected = async (ctx, token) =>
            {
                if (ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry)) ctx.HttpContext.Response.Headers.RetryAfter = ((int)retry.TotalSeconds).ToString();
                await Results.Problem(statusCode: 429, title: "Too many requests",
                    detail: $"at most {options.RequestsPerWindow} requests per {options.RateWindow.TotalSeconds:0} s per caller").ExecuteAsync(ctx.HttpContext);
            };
        });
        services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecurityTransformer>());

        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            // Security headers for the page and the API alike (Scalar's page needs its inline script).
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
            if (!ctx.Request.Path.StartsWithSegments("/scalar"))
                ctx.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
            await next();
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        var web = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(web))
        {
            // The search page shell and its script hold no patient data; every data call it makes is authenticated.
            var files = new PhysicalFileProvider(web);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files, OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache" });
        }
        app.UseRouting();
        // Per remote address, before authentication: bad credentials are checked (and audited) only within this budget, so
        // a flood of them cannot flood the audit log. Generous (10× the per-caller limit) since many callers may share a NAT.
        var perAddress = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
            ctx.Request.Path.StartsWithSegments("/health") ? RateLimitPartition.GetNoLimiter("health")
                : RateLimitPartition.GetFixedWindowLimiter("ip:" + CasebookAuth.Remote(ctx), _ => new FixedWindowRateLimiterOptions
                    { PermitLimit = (int)Math.Min(int.MaxValue, 10L * options.RequestsPerWindow), Window = options.RateWindow, QueueLimit = 0 }));
        app.Use(async (ctx, next) =>
        {
            using var lease = await perAddress.AcquireAsync(ctx, 1, ctx.RequestAborted);
            if (!lease.IsAcquired)
            {
                await Results.Problem(statusCode: 429, title: "Too many requests", detail: "too many requests from this address").ExecuteAsync(ctx);
                return;
            }
            await next();
        });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseMiddleware<AuditMiddleware>();
        app.UseAuthorization();
        app.Use(async (ctx, next) =>
        {
            // Uploads get a larger body limit than the 1 MiB default, per endpoint; a declared length over it is refused at once.
            if (ctx.GetEndpoint()?.Metadata.GetMetadata<UploadLimit>() is { } upload)
            {
                var max = upload.Which == UploadLimit.Kind.Ingest ? options.MaxIngestBytes : options.MaxImageQueryBytes;
                if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } f) f.MaxRequestBodySize = max;
                if (ctx.Request.ContentLength > max)
                    throw new ProblemException(413, "Request too large", $"the upload is {ctx.Request.ContentLength} bytes; the limit is {max}");
            }
            await next();
        });

        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        if (cluster == null) ApiRoutes.Map(app);
        else Casebook.Server.Cluster.ClusterRoutes.Map(app);
        return new CasebookServer(app, db, options, cluster);
    }

    /// <summary>Hospital feeds (Feeds/): the DIMSE SCP and the MLLP listener, hosted beside Kestrel when their ports are given.
    /// The engine calls go through <see cref="IFeedTarget"/>: <see cref="FeedWriter"/> on one database, the cluster's log with --cluster.</summary>
    internal static void AddFeeds(IServiceCollection services, ServerOptions options, Func<IServiceProvider, IFeedTarget>? target = null)
    {
        if (options.DimsePort == null && options.MllpPort == null) return;
        if (target == null)
        {
            services.AddSingleton<FeedWriter>();
            services.AddSingleton<IFeedTarget>(sp => sp.GetRequiredService<FeedWriter>());
        }
        else services.AddSingleton(target);
        if (options.DimsePort != null)
        {
            services.AddSingleton(sp => new DicomSpool(Path.GetFullPath(options.DbDirectory), sp.GetRequiredService<IFeedTarget>(), sp.GetRequiredService<AuditLog>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DicomSpool>()));
            services.AddSingleton<DimseListener>();
            services.AddHostedService(sp => sp.GetRequiredService<DimseListener>());
        }
        if (options.MllpPort != null)
        {
            services.AddSingleton<MllpListener>();
            services.AddHostedService(sp => sp.GetRequiredService<MllpListener>());
        }
    }

    /// <summary>The DIMSE SCP's bound port (null when off); after start.</summary>
    public int? DimsePort => App.Services.GetService<DimseListener>()?.Port;
    /// <summary>The MLLP listener's bound port (null when off); after start.</summary>
    public int? MllpPort => App.Services.GetService<MllpListener>()?.Port;

    static X509Certificate2 LoadCertificate(ServerOptions o)
    {
        var path = o.TlsCertPath!;
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".pfx" or ".p12") return X509CertificateLoader.LoadPkcs12FromFile(path, o.TlsCertPassword);
        var cert = o.TlsKeyPath != null ? X509Certificate2.CreateFromPemFile(path, o.TlsKeyPath) : X509Certificate2.CreateFromPemFile(path);
        // Kestrel on Linux needs the key in an exportable container form; round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public Task StartAsync(CancellationToken ct = default) => App.StartAsync(ct);
    public Task RunAsync(CancellationToken ct = default) => App.RunAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await App.Services.GetRequiredService<IngestJobs>().DrainAsync();
        await App.StopAsync();
        await App.DisposeAsync();
        if (Cluster != null) await Cluster.DisposeAsync();
        Db.Dispose();
    }
}

/// <summary>The HMAC key that signs and checks JWTs.</summary>
public sealed record TokenSigningKey(byte[] Key);
