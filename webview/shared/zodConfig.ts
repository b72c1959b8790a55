import * as z from 'zod';

// zod builds fast object parsers with `new Function` unless told not to, and probes for it as soon
// as the first object schema is constructed. The CSP forbids eval, and Chromium reports even a caught
// probe as a violation, so this module must be the first import of every dashboard bundle: it runs
// before any module that declares a schema.
z.config({ jitless: true });
