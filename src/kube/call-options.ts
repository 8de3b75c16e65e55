// Per-call options for client-node's generated APIs (src/kube/api.ts, src/kube/events.ts): a
// deadline that aborts the request, and a successful answer taken as plain JSON instead of the
// client's model classes.
import {
  Observable,
  ResponseContext,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
} from '@kubernetes/client-node';

/** Where the post step leaves a successful answer's JSON, parsed but not deserialized. */
export interface Answer {
  json?: unknown;
}

const EMPTY_BODY = {
  text: (): Promise<string> => Promise.resolve('{}'),
  binary: (): Promise<Buffer> => Promise.resolve(Buffer.from('{}')),
};

/**
 * Takes a successful JSON answer as plain JSON and hands the generated client an empty object in
 * its place. The client would otherwise turn every answer into its model classes, a second
 * full copy of the object built field by field: for a Service of the maximum object size that
 * copy cost more CPU than the parse itself, and a reconcile holds thousands of them at once.
 * What we read is typed by the API's JSON shape (src/translate/types.ts) anyway; error answers
 * pass through untouched, so the client still raises its ApiException with the body.
 */
function takeJson(response: ResponseContext, answer: Answer): Promise<ResponseContext> {
  const status = response.httpStatusCode;
  const type = String(response.headers['content-type'] ?? '');
  if (status < 200 || status > 299 || !type.includes('json')) return Promise.resolve(response);
  return response.body.text().then((text) => {
    try {
      answer.json = JSON.parse(text) as unknown;
      return new ResponseContext(status, response.headers, EMPTY_BODY);
    } catch {
      // Not JSON after all: let the generated client report it as it would have.
      const again = {
        text: () => Promise.resolve(text),
        binary: () => Promise.resolve(Buffer.from(text)),
      };
      return new ResponseContext(status, response.headers, again);
    }
  });
}

/**
 * Per-call options of the generated client: abort the request (and its body) on `signal`, and
 * take a successful answer as plain JSON into `answer`.
 */
export function callOptions(signal: AbortSignal, answer: Answer): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (request: RequestContext) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response: ResponseContext) => new Observable(takeJson(response, answer)),
  };
  // `append` keeps the client's own middleware (none today) in front of ours.
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
