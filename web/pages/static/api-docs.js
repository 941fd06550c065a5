// Start Swagger UI on the API documentation page (a file, not an inline script, which the
// Content-Security-Policy refuses). No validator badge: it would send the OpenAPI document's
// address to validator.swagger.io.
var root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.getAttribute("data-openapi-url"),
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
