// Builds the console into src/deconfliction/web/static/ (committed: the Python
// package ships these files, so a user needs no node). Run through `npm run build`
// (or ./build.sh, which also runs `npm ci`). The build is reproducible: the same
// sources and package-lock.json give the same files, byte for byte.
//
// Output:
//   index.html            the page (references only files below, by relative URL)
//   app.js                the application and MapLibre GL JS, one IIFE bundle
//   app.css               MapLibre's CSS, the fonts' @font-face rules, ours
//   fonts/*.woff2         Noto Sans (Latin, Cyrillic) and Noto Sans Arabic subsets
//   i18n/{en,ru,ar}.json  the UI strings
//   LICENSES.txt          the licences of what the bundle contains
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// `node build.mjs --out DIR` builds elsewhere (web/check compares that with what is
// committed); by default, into the package.
const at = process.argv.indexOf("--out");
const out = at > 0 ? resolve(process.argv[at + 1]) : join(here, "..", "src", "deconfliction", "web", "static");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "i18n"), { recursive: true });

await build({
  entryPoints: { app: join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  outdir: out,
  legalComments: "none", // collected in LICENSES.txt instead
  logLevel: "warning",
});

await build({
  entryPoints: { app: join(here, "src", "style.css") },
  bundle: true,
  minify: true,
  outdir: out,
  loader: { ".woff2": "file", ".woff": "empty" },
  assetNames: "fonts/[name]",
  logLevel: "warning",
});

cpSync(join(here, "src", "index.html"), join(out, "index.html"));
for (const lang of ["en", "ru", "ar"]) {
  // Parsed and written again: a syntax error fails the build, not the page.
  const catalog = JSON.parse(readFileSync(join(here, "src", "i18n", `${lang}.json`), "utf8"));
  writeFileSync(join(out, "i18n", `${lang}.json`), JSON.stringify(catalog, null, 1) + "\n");
}

const licence = (path) => readFileSync(join(here, "node_modules", path), "utf8").trim();
const version = (pkg) =>
  JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8")).version;
writeFileSync(
  join(out, "LICENSES.txt"),
  [
    "Third-party software and fonts in this directory",
    "=================================================",
    "",
    `app.js contains MapLibre GL JS ${version("maplibre-gl")} (BSD-3-Clause) and`,
    `polygon-clipping ${version("polygon-clipping")} (MIT) with their dependencies; app.css`,
    "contains MapLibre GL JS's stylesheet. fonts/ holds subsets of Noto Sans",
    `(@fontsource/noto-sans ${version("@fontsource/noto-sans")}) and Noto Sans Arabic`,
    `(@fontsource/noto-sans-arabic ${version("@fontsource/noto-sans-arabic")}), both under the`,
    "SIL Open Font License 1.1. The map data (countries, rivers) is served from",
    "deconfliction/data/geo, with its own README and licences.",
    "",
    "--- maplibre-gl ---",
    licence("maplibre-gl/LICENSE.txt"),
    "",
    "--- polygon-clipping ---",
    licence("polygon-clipping/LICENSE.md"),
    "",
    "--- @fontsource/noto-sans, @fontsource/noto-sans-arabic ---",
    licence("@fontsource/noto-sans/LICENSE"),
    "",
  ].join("\n"),
);
console.log(`built into ${out}`);
