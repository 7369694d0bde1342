// The UI's one client of /graphql, the schema external clients use: POST a document with its variables (JSON),
// with the session's CSRF token (base.html puts it in <body hx-headers>), and resolve with `data`. An answer
// with errors (a 400 for a refused input, a 500, a field that failed) rejects with the server's messages, so no
// caller reads a half answer. `options`: `signal` (an AbortSignal, to drop a request a newer one replaces) and
// `operationName` (which the server's logs and the browser tests see).
(function () {
  "use strict";
  window.orchestraGraphQL = function (url, query, variables, options) {
    options = options || {};
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    try {
      var extra = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      for (var key in extra) headers[key] = extra[key];
    } catch (e) { /* no token on the page: the request goes without one */ }
    var body = { query: query, variables: variables || {} };
    if (options.operationName) body.operationName = options.operationName;
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, signal: options.signal,
                        body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () {
          throw new Error("the server answered " + response.status + " without JSON");
        });
      })
      .then(function (answer) {
        if (!answer.data || (answer.errors && answer.errors.length)) {
          throw new Error((answer.errors || []).map(function (e) { return e.message; }).join("; ") || "no data");
        }
        return answer.data;
      });
  };
})();
