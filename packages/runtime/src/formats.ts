import { registerConfigFormat } from '@modnas/config';
import { originalFormat } from '@modnas/config-original';
import { vegaFormat } from '@modnas/config-vega';

/** The config formats the runtime reads besides the native one: the seed's VEGA layout, then the original library's own (VEGA's is asked first: its files may hold the original's keys inside trainer.modnas). */
export function useDefaultFormats(): void {
  registerConfigFormat(vegaFormat);
  registerConfigFormat(originalFormat);
}
