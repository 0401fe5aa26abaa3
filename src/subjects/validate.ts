// Subject and queue-name validation, per the NATS naming rules: tokens separated by '.', no empty token,
// no whitespace, '*' and '>' only as whole tokens and '>' only last.

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12;
}

/** A subject a subscription may use: wildcards allowed as whole tokens, '>' only as the last token. */
export function isValidSubscribeSubject(subject: string): boolean {
  const len = subject.length;
  if (len === 0) return false;
  let tokenStart = 0;
  let sawFwc = false;
  for (let i = 0; i <= len; i++) {
    const code = i < len ? subject.charCodeAt(i) : 46;
    if (code === 46) {
      if (i === tokenStart || sawFwc) return false;
      if (i - tokenStart === 1 && subject.charCodeAt(tokenStart) === 62) sawFwc = true;
      tokenStart = i + 1;
    } else if (isWhitespace(code)) {
      return false;
    }
  }
  return true;
}

/** A literal subject a message may be published to: valid, and without wildcard tokens. */
export function isValidPublishSubject(subject: string): boolean {
  return isValidSubscribeSubject(subject) && isLiteralSubject(subject);
}

/** True when no token is a wildcard ('*' or '>'). */
export function isLiteralSubject(subject: string): boolean {
  const len = subject.length;
  for (let i = 0; i < len; i++) {
    const code = subject.charCodeAt(i);
    if (code === 42 || code === 62) {
      const startsToken = i === 0 || subject.charCodeAt(i - 1) === 46;
      const endsToken = i + 1 === len || subject.charCodeAt(i + 1) === 46;
      if (startsToken && endsToken) return false;
    }
  }
  return true;
}

/** A queue group name: non-empty, no whitespace. */
export function isValidQueueName(queue: string): boolean {
  if (queue.length === 0) return false;
  for (let i = 0; i < queue.length; i++) if (isWhitespace(queue.charCodeAt(i))) return false;
  return true;
}
