import { describe, expect, it } from 'vitest';
import { checkPasswordStrength } from '../../../../daemon/services/governance/password';

const codes = (password: string, inputs: string[] = []) => checkPasswordStrength(password, inputs).reasons.map((r) => r.code);

describe('governance/checkPassword', () => {
  it('refuses short passwords', () => {
    const r = checkPasswordStrength('Ab1!x');
    expect(r.score).toBe(0);
    expect(r.acceptable).toBe(false);
    expect(codes('Ab1!x')).toContain('tooShort');
    expect(checkPasswordStrength('Zq8#kLw').score).toBeLessThanOrEqual(1);
  });

  it.each(['password', 'Password1', 'P@ssw0rd', 'qwerty123', 'letmein!', 'iloveyou2024', 'Dragon!!', 'monkey123'])(
    'scores the common password %s 0',
    (pw) => {
      const r = checkPasswordStrength(pw);
      expect(r.score).toBe(0);
      expect(r.acceptable).toBe(false);
      expect(r.reasons.map((x) => x.code)).toContain('common');
    },
  );

  it('discounts sequences, keyboard walks and repeats', () => {
    expect(codes('abcdefgh12')).toContain('sequence');
    expect(codes('zxcvbnmasdf')).toContain('sequence');
    expect(codes('aaaaaaaaaaaa')).toContain('repeated');
    expect(codes('xyzxyzxyzxyz')).toContain('repeated');
    expect(checkPasswordStrength('aaaaaaaaaaaaaaaaaaaa').score).toBeLessThanOrEqual(1);
    expect(checkPasswordStrength('abcdefghijklmnop').acceptable).toBe(false);
  });

  it('refuses passwords that contain the user name', () => {
    const r = checkPasswordStrength('alice.smith-Winter#93', ['alice.smith']);
    expect(r.acceptable).toBe(false);
    expect(r.score).toBeLessThanOrEqual(1);
    expect(r.reasons.map((x) => x.code)).toContain('containsUserInput');
  });

  it('accepts strong passwords and long passphrases', () => {
    const mixed = checkPasswordStrength('T7#vq9!Lm2$xR4');
    expect(mixed.score).toBe(4);
    expect(mixed.acceptable).toBe(true);
    expect(mixed.reasons).toEqual([]);
    const phrase = checkPasswordStrength('correct horse battery staple');
    expect(phrase.score).toBeGreaterThanOrEqual(3);
    expect(phrase.acceptable).toBe(true);
  });

  it('asks for more character classes on a short single-class password', () => {
    const r = checkPasswordStrength('kqzmvwtr');
    expect(r.acceptable).toBe(false);
    expect(r.reasons.map((x) => x.code)).toContain('fewClasses');
  });

  it('never echoes the password in its reasons', () => {
    const pw = 'Sup3rS3cret-Value!';
    const r = checkPasswordStrength(pw, ['nobody']);
    expect(JSON.stringify(r)).not.toContain(pw);
  });
});
