// Lint for the console's sources (web/check runs it; so does `npm run lint`).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/"] },
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
    rules: {
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "no-shadow": "error",
      "no-param-reassign": ["error", { props: false }],
      // Text from the server is set as text, never parsed as HTML (see util.js).
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "set text with textContent or h()" },
        { property: "outerHTML", message: "set text with textContent or h()" },
        { property: "insertAdjacentHTML", message: "build nodes with h()" },
      ],
      "no-restricted-globals": ["error", { name: "eval" }],
    },
  },
  { files: ["src/**/*.js"], languageOptions: { globals: globals.browser } },
  { files: ["*.js", "*.mjs", "test/**/*.js"], languageOptions: { globals: globals.node } },
];
