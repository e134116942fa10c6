// The console's one stylesheet, served from /console/assets/console.css (CSP `style-src 'self'`).
// Kept in a module rather than a file so `tsc` ships it in dist/ with everything else.
import { createHash } from 'node:crypto';

export const CSS = `*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f8fa}
a{color:#0550ae}a:hover{color:#033d8b}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}.skip:focus{left:1rem}
header{background:#1d2733;color:#fff;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
header .brand{font-weight:700;font-size:1.1rem;color:#fff;text-decoration:none}
header nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0}
header nav a{color:#d8dee4;text-decoration:none;padding:.25rem .1rem;border-bottom:2px solid transparent}
header nav a[aria-current=page]{color:#fff;border-bottom-color:#fff}
header .who{margin-left:auto;display:flex;gap:.75rem;align-items:center;font-size:.9rem;color:#d8dee4}
header .who button{background:transparent;color:#fff;border:1px solid #8c959f}
main{padding:1rem 1.5rem 3rem;max-width:1400px;margin:0 auto}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .6rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:.8rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.7rem .9rem}
.card h2{margin:0 0 .3rem;font-size:.85rem;text-transform:uppercase;letter-spacing:.03em;color:#57606a}
.card .big{font-size:1.5rem;font-weight:600}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:.8rem}
td,th{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#eaeef2;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.wrap{overflow-x:auto}
.ok{color:#116329}.bad{color:#a40e26;font-weight:600}.warn{color:#7d4e00;font-weight:600}.muted{color:#57606a}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
.flash{padding:.6rem .9rem;border-radius:6px;margin:0 0 1rem;border:1px solid}
.flash.ok{background:#dafbe1;border-color:#4ac26b;color:#116329}.flash.error{background:#ffebe9;border-color:#ff8182;color:#82071e}
form.inline{display:inline-flex;flex-wrap:wrap;gap:.4rem;align-items:end;margin:.2rem 0}
form.stack{display:grid;gap:.6rem;max-width:28rem}
label{font-weight:600;font-size:.9rem}
.field{display:flex;flex-direction:column;gap:.2rem}
input,select,button{font:inherit;padding:.35rem .6rem;border:1px solid #8c959f;border-radius:6px;background:#fff;color:#1d2733}
input:not([type=hidden]){min-width:12rem}
button{cursor:pointer;background:#f6f8fa;font-weight:600}
button.primary{background:#1f883d;border-color:#1a7f37;color:#fff}
button.danger{background:#cf222e;border-color:#a40e26;color:#fff}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
.chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.5rem}
.chart svg{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;padding:0;margin:.4rem 0 0;font-size:.9rem}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;margin-right:.3rem;vertical-align:-2px}
.s-ok{background:#2da44e}.s-throttled{background:#bf8700}.s-server_error{background:#cf222e}.s-client_error{background:#8250df}.s-timeout{background:#57606a}.s-network{background:#0969da}
ol.timeline{list-style:none;padding:0;margin:.4rem 0;border-left:3px solid #d0d7de}
ol.timeline li{padding:.25rem .8rem;position:relative}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;margin:.5rem 0}
summary{cursor:pointer;font-weight:600}
.signin{max-width:28rem;margin:4rem auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.5rem}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0}dl.kv dt{font-weight:600}dl.kv dd{margin:0}
@media (max-width:800px){main{padding:1rem}header .who{margin-left:0}}`;

/** Strong validator for the stylesheet (it only changes with a new build). */
export const CSS_ETAG = `"${createHash('sha256').update(CSS).digest('base64url').slice(0, 27)}"`;
