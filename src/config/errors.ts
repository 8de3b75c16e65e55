// What the command line answers instead of running: a usage or configuration problem (one line,
// exit 2) or a text the user asked for (help, the version; exit 0).

/**
 * A flag, argument or setting that cannot be used, with what to do instead. `flag` names the
 * flag (or variable) at fault; the message is one line and names the fix.
 */
export class ConfigError extends Error {
  readonly flag: string;
  readonly value: string;
  readonly allowed: string;

  /** `invalid value "<value>" for --<flag>: <allowed>`, unless a whole `message` is given. */
  constructor(flag: string, value: string, allowed: string, message?: string) {
    super(message ?? `invalid value ${JSON.stringify(value)} for --${flag}: ${allowed}`);
    this.name = 'ConfigError';
    this.flag = flag;
    this.value = value;
    this.allowed = allowed;
  }
}

/** Thrown for --help, `help` and --version: the caller prints `text` and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}
