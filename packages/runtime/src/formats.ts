import { registerConfigFormat } from '@modnas/config';
import { vegaFormat } from '@modnas/config-vega';

/** The config formats the runtime reads besides the native one: the seed's VEGA layout. */
export function useDefaultFormats(): void {
  registerConfigFormat(vegaFormat);
}
