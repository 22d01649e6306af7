using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Casebook.Server;

/// <summary>Declares the bearer scheme (API key or JWT) in the OpenAPI document so the API page can send it.</summary>
internal sealed class BearerSecurityTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Info.Title = "Casebook";
        document.Info.Description = "Multimodal clinical retrieval. Every endpoint but /health needs `Authorization: Bearer <API key or JWT>`.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "A Casebook API key (cbk_…) or a JWT from POST /api/token",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
        return Task.CompletedTask;
    }
}
