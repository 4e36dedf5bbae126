/**
 * `/embed.js`: the `<hindsight-audit-log>` custom element a host page uses to show a tenant's
 * audit log, served as is (plain JavaScript, no build, no dependency):
 *
 *   <script src="https://audit.example.com/embed.js" defer></script>
 *   <hindsight-audit-log token="…" accent="#0b6bcb" title="Audit log"></hindsight-audit-log>
 *
 * It frames `<src>/embed?token=…` (`src`: the Hindsight server, by default where the script
 * came from). Setting a new `token` (before the old one expires) reloads the frame.
 * `verifier-key` pins the keys (separated by spaces) that the console checks the log's
 * signatures with, instead of the key the server serves.
 */
export const EMBED_ELEMENT_JS = `// Hindsight: <hindsight-audit-log token="..." src="..." accent="#RRGGBB" logo="https://..." title="..." verifier-key="name+hash+key ...">
(() => {
  'use strict';
  if (customElements.get('hindsight-audit-log')) return;
  const script = document.currentScript;
  const scriptOrigin = script && script.src ? new URL(script.src).origin : location.origin;
  class HindsightAuditLog extends HTMLElement {
    static get observedAttributes() {
      return ['token', 'src', 'accent', 'logo', 'title', 'verifier-key'];
    }
    connectedCallback() {
      this.render();
    }
    attributeChangedCallback() {
      if (this.isConnected) this.render();
    }
    render() {
      const token = this.getAttribute('token');
      if (!token) return;
      const url = new URL('/embed', this.getAttribute('src') || scriptOrigin);
      url.searchParams.set('token', token);
      for (const name of ['accent', 'logo', 'title']) {
        const value = this.getAttribute(name);
        if (value) url.searchParams.set(name, value);
      }
      for (const key of (this.getAttribute('verifier-key') || '').split(/\\s+/)) {
        if (key) url.searchParams.append('verifierKey', key);
      }
      if (!this.shadowRoot) {
        const root = this.attachShadow({ mode: 'open' });
        const style = document.createElement('style');
        style.textContent =
          ':host{display:block;height:640px}iframe{border:0;width:100%;height:100%;display:block}';
        const frame = document.createElement('iframe');
        frame.referrerPolicy = 'no-referrer';
        root.append(style, frame);
      }
      const frame = this.shadowRoot.querySelector('iframe');
      frame.title = this.getAttribute('title') || 'Audit log';
      frame.src = url.href;
    }
  }
  customElements.define('hindsight-audit-log', HindsightAuditLog);
})();
`;
