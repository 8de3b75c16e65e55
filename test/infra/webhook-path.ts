// The Kubernetes API server's rule for an admission webhook's clientConfig.service.path, written
// from k8s.io/apiserver/pkg/util/webhook ValidateWebhookService and k8s.io/apimachinery
// IsDNS1123Subdomain, independent of the code under test (src/auth/path-token.ts).

/** IsDNS1123Subdomain's pattern (k8s.io/apimachinery/pkg/util/validation). */
export const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** IsDNS1123Subdomain's length limit (DNS1123SubdomainMaxLength). */
export const DNS1123_SUBDOMAIN_MAX = 253;
/** RFC 1123 §2.1 / RFC 1035 §2.3.4: a label is at most 63 octets. */
export const DNS1123_LABEL_MAX = 63;

/** Whether `s` is a lowercase RFC 1123 subdomain whose labels are at most 63 characters. */
export function isRfc1123Subdomain(s: string): boolean {
  return (
    s.length <= DNS1123_SUBDOMAIN_MAX &&
    DNS1123_SUBDOMAIN.test(s) &&
    s.split('.').every((label) => label.length <= DNS1123_LABEL_MAX)
  );
}

/**
 * ValidateWebhookService's path check: "" and "/" pass; otherwise it must start with '/', one
 * trailing '/' is ignored, and every '/'-separated segment must be a non-empty DNS-1123
 * subdomain of at most 253 characters. Returns the errors (empty = accepted). The 63-character
 * label limit is checked too: IsDNS1123Subdomain does not, but RFC 1123 does, and a stricter
 * check costs nothing here.
 */
export function webhookServicePathErrors(path: string): string[] {
  if (path === '' || path === '/') return [];
  if (path === '//') return ['segment[0] may not be empty'];
  if (!path.startsWith('/')) return ["must start with a '/'"];
  const steps = path.slice(1).replace(/\/$/, '').split('/');
  return steps.flatMap((step, i) => {
    if (step.length === 0) return [`segment[${i}] may not be empty`];
    if (!isRfc1123Subdomain(step)) {
      return [`segment[${i}] ${JSON.stringify(step)} is not a lowercase RFC 1123 subdomain`];
    }
    return [];
  });
}
