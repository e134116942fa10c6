// The console's security headers, kept apart so the page environment (env.ts) can name their type
// without importing the plugin that registers the pages.
/**
 * No script at all; styles and images from the console itself; forms post only to it. Referrer
 * policy same-origin (not the API's no-referrer): with no-referrer Chromium sends `Origin: null`
 * on form posts, which the auth hook's cross-site check rightly refuses.
 */
export const CONSOLE_CSP = {
  referrerPolicy: { policy: 'same-origin' as const },
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
};
