/**
 * How to sign out, for any part of the signed-in console that may need it (a notice about a
 * key that is no longer accepted); `null` where there is nothing to sign out of (embedded).
 */
import { createContext } from 'react';

export const SignOutContext = createContext<(() => void) | null>(null);
