import type { CheckPasswordResult } from '../../protocol';
import { COMMON_PASSWORDS } from './commonPasswords';

/** Below this a password is refused whatever it contains (NIST SP 800-63B asks for at least 8). */
export const MIN_PASSWORD_LENGTH = 8;
/** Longer passwords are fine but cost hashing time; refuse rather than truncate silently. */
export const MAX_PASSWORD_LENGTH = 256;

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's', '!': 'i', '|': 'l' };
const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1234567890', 'qwertzuiop', 'azertyuiop'];
/** Shortest run counted as a sequence or keyboard walk. */
const RUN = 4;

type Reason = CheckPasswordResult['reasons'][number];

/** The password reduced to the word an attacker's dictionary rule would try first. */
function dictionaryForms(password: string): string[] {
  const lower = password.toLowerCase();
  const unleet = [...lower].map((c) => LEET[c] ?? c).join('');
  const strip = (s: string) => s.replace(/[^a-z]+$/, '').replace(/^[^a-z]+/, '');
  return [lower, unleet, strip(lower), strip(unleet), lower.replace(/[^a-z0-9]+$/, '')];
}

/** Positions that belong to a keyboard walk or an alphabetical/numeric run of RUN or more. */
function predictablePositions(password: string): Set<number> {
  const lower = password.toLowerCase();
  const marked = new Set<number>();
  for (let i = 0; i + RUN <= lower.length; i++) {
    const chunk = lower.slice(i, i + RUN);
    const walk = KEYBOARD_ROWS.some((row) => row.includes(chunk) || [...row].reverse().join('').includes(chunk));
    let step = true;
    for (let j = 1; j < chunk.length && step; j++) {
      const d = chunk.charCodeAt(j) - chunk.charCodeAt(j - 1);
      step = d === chunk.charCodeAt(1) - chunk.charCodeAt(0) && Math.abs(d) <= 1;
    }
    if (walk || step) for (let j = i; j < i + RUN; j++) marked.add(j);
  }
  return marked;
}

/** Length after discounting repeats and runs: what an attacker actually has to guess, in characters. */
function effectiveLength(password: string, predictable: Set<number>): number {
  let length = 0;
  for (let i = 0; i < password.length; i++) {
    length += predictable.has(i) || (i > 0 && password[i] === password[i - 1]) ? 0.25 : 1;
  }
  // The whole password as one repeated unit (abcabcabc) is as hard as the unit once.
  const unit = /^(.+?)\1+$/s.exec(password);
  return unit ? Math.min(length, unit[1]!.length + 1) : length;
}

/**
 * Password strength, in the spirit of zxcvbn but small: refuses short, common (with leetspeak and
 * affixes undone) and user-derived passwords, discounts repeats, sequences and keyboard walks, and
 * scores the rest by estimated entropy. Pure: it never logs or keeps the password.
 */
export function checkPasswordStrength(password: string, userInputs: readonly string[] = []): CheckPasswordResult {
  const reasons: Reason[] = [];
  let cap = 4;
  if (password.length < MIN_PASSWORD_LENGTH) {
    reasons.push({ code: 'tooShort', message: `Use at least ${MIN_PASSWORD_LENGTH} characters (${password.length} given).` });
    cap = Math.min(cap, password.length < 6 ? 0 : 1);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    reasons.push({ code: 'tooLong', message: `Use at most ${MAX_PASSWORD_LENGTH} characters.` });
    cap = 0;
  }
  if (dictionaryForms(password).some((f) => COMMON_PASSWORDS.has(f))) {
    reasons.push({ code: 'common', message: 'This is one of the most common passwords (or a simple variation of one).' });
    cap = 0;
  }
  const lower = password.toLowerCase();
  const used = userInputs.map((u) => u.trim().toLowerCase()).filter((u) => u.length >= 3 && lower.includes(u));
  if (used.length > 0) {
    reasons.push({ code: 'containsUserInput', message: 'The password contains your user name, e-mail or another given word.' });
    cap = Math.min(cap, 1);
  }

  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const pool = (/[a-z]/.test(password) ? 26 : 0) + (/[A-Z]/.test(password) ? 26 : 0) + (/[0-9]/.test(password) ? 10 : 0) + (/[^A-Za-z0-9]/.test(password) ? 33 : 0);
  const predictable = predictablePositions(password);
  if (predictable.size > 0) reasons.push({ code: 'sequence', message: 'Avoid sequences and keyboard walks such as "abcd", "4321" or "qwerty".' });
  if (/(.)\1\1/s.test(password) || /^(.+?)\1+$/s.test(password)) {
    reasons.push({ code: 'repeated', message: 'Avoid repeated characters or patterns such as "aaa" or "abcabc".' });
  }
  const bits = effectiveLength(password, predictable) * Math.log2(Math.max(pool, 1));
  if (classes < 3 && password.length < 16) {
    reasons.push({ code: 'fewClasses', message: 'Mix upper and lower case, digits and symbols, or use a passphrase of 16 or more characters.' });
  }

  const byEntropy = bits < 28 ? 0 : bits < 40 ? 1 : bits < 56 ? 2 : bits < 72 ? 3 : 4;
  const score = Math.min(cap, byEntropy);
  const blocking = reasons.some((r) => r.code === 'tooShort' || r.code === 'tooLong' || r.code === 'common' || r.code === 'containsUserInput');
  return { score, acceptable: score >= 3 && !blocking, reasons };
}
