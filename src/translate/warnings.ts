// How a user's value appears in a warning line: quoted and cut short, since an annotation can be
// as long as the object allows.

export function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** A user value in a warning: JSON-quoted, cut at 64 characters (annotations can be huge). */
export function quote(value: string): string {
  return JSON.stringify(truncate(value, 64));
}
