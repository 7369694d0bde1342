// The UI's client of /graphql, the schema external clients use: POST a document with its variables (JSON),
// with the session's CSRF token (base.html puts it in <body hx-headers>), and resolve with `data`. A response
// without data (a 400 for a refused input, a 500) rejects with the server's messages.
(function () {
  "use strict";
  window.orchestraGraphQL = function (url, query, variables, signal) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    try {
      var extra = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      for (var key in extra) headers[key] = extra[key];
    } catch (e) { /* no token on the page: the request goes without one */ }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, signal: signal,
                        body: JSON.stringify({ query: query, variables: variables || {} }) })
      .then(function (response) {
        return response.json().catch(function () {
          throw new Error("the server answered " + response.status + " without JSON");
        });
      })
      .then(function (body) {
        if (!body.data) {
          throw new Error((body.errors || []).map(function (e) { return e.message; }).join("; ") || "no data");
        }
        return body.data;
      });
  };
})();
