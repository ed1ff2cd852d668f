// Type-aware rules that catch real bugs: a promise nobody awaits loses its error (and
// in an event handler, its ordering); an unused name is usually a forgotten use.
// test/unit/static-checks.test.ts runs this inside `npm test`; `npm run lint` by hand.
import tseslint from "@typescript-eslint/eslint-plugin";
import tsparser from "@typescript-eslint/parser";

// `pepr build` and `pepr dev` (1.1.4) lint every .ts file with this config as a format
// check before each build. Type information costs about a minute of CPU there, on every
// start of npm start, npm run lab and the integration tests, and they only print the
// result; so under pepr the rules that need types are left to the static-checks test.
const underPepr = /(^|[\\/])(\.bin[\\/]pepr|pepr[\\/]dist[\\/]cli\.js)$/.test(process.argv[1] ?? "");

const typed = {
  "@typescript-eslint/no-floating-promises": "error",
  "@typescript-eslint/no-misused-promises": "error",
};

export default [
  // Generated output (pepr's .d.ts files in dist/ and .lab/) is neither linted nor formatted.
  { ignores: ["dist/**", "build/**", ".lab/**", "node_modules/**", "native/**", "bench/results/**"] },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tsparser,
      parserOptions: underPepr ? {} : { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...(underPepr ? {} : typed),
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
        },
      ],
    },
  },
];
