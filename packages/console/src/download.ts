/**
 * Saves a file fetched with the reader's credentials. The key is not a cookie, so a plain link
 * to the export could not authenticate: the file is fetched, then handed to the browser as an
 * object URL behind a temporary `<a download>`.
 */
import type { Download } from './api.js';

/** Offers the file to the reader as a download. */
export function saveDownload({ blob, filename }: Download): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has started reading the blob; free it once it surely has.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
