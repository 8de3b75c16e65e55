// Stands in for the `whatwg-url` package in the bundle (package.json `bundle`, --alias).
// node-fetch 2, which @kubernetes/client-node uses, imports it only as a fallback for Node's
// own URL (`Url.URL || whatwgUrl.URL`), which Node 20 always has; the real package loads tr46's
// 4 MiB mapping table at start for nothing.
export default { URL: globalThis.URL };
