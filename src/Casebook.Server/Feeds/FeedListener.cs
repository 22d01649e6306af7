using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Casebook.Server.Feeds;

/// <summary>
/// A TCP listener for one hospital feed (DIMSE, MLLP), hosted beside Kestrel on the same bind address. Each connection runs
/// on its own task; at most <see cref="MaxConnections"/> at once (more are closed at once, so a flood cannot starve the
/// writer). A connection that throws is logged and closed; the listener goes on. Stopping closes the socket and waits for
/// the connections in flight, so a batch being committed finishes.
/// </summary>
public abstract class FeedListener(ServerOptions options, int port, ILogger logger) : IHostedService
{
    TcpListener? _listener;
    Task? _accepting;
    readonly CancellationTokenSource _stopping = new();
    readonly ConcurrentDictionary<int, Task> _connections = new();
    int _next;

    public int MaxConnections { get; init; } = 64;
    /// <summary>The bound port (the real one when the option was 0); after start.</summary>
    public int Port { get; private set; }
    protected ILogger Logger => logger;
    protected ServerOptions Options => options;
    protected CancellationToken Stopping => _stopping.Token;

    protected abstract string Name { get; }
    protected abstract Task ServeAsync(TcpClient client, string remote, CancellationToken ct);

    public virtual Task StartAsync(CancellationToken cancellationToken)
    {
        var address = options.Bind == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Bind);
        _listener = new TcpListener(address, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptLoop, CancellationToken.None);
        return Task.CompletedTask;
    }

    async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener!.AcceptTcpClientAsync(_stopping.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e) { logger.LogWarning("{Feed}: accept failed: {Reason}", Name, e.Message); continue; }
            if (_connections.Count >= MaxConnections) { client.Dispose(); continue; }
            client.NoDelay = true;
            var id = Interlocked.Increment(ref _next);
            var remote = (client.Client.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
            _connections[id] = Task.Run(async () =>
            {
                try { await ServeAsync(client, remote, _stopping.Token); }
                catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException) { }
                catch (Exception e) { logger.LogError(e, "{Feed}: connection from {Remote} failed", Name, remote); }
                finally { client.Dispose(); _connections.TryRemove(id, out _); }
            });
        }
    }

    public virtual async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _listener?.Stop();
        if (_accepting != null) await _accepting;
        await Task.WhenAll(_connections.Values.ToArray());
    }
}
