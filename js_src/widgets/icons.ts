/**
 * The extension's icon: a container (a box), drawn in the theme's icon colour.
 */
import { LabIcon } from '@jupyterlab/ui-components';

const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M12 2 3 6.5v11L12 22l9-4.5v-11L12 2zm0 2.24 6.52 3.26L12 10.76 5.48 7.5 12 4.24zM5 9.12l6 3v7.52l-6-3V9.12zm8 10.52v-7.52l6-3v7.52l-6 3z"/>
</svg>`;

export const containerJobIcon = new LabIcon({
  name: 'containerjob:icon',
  svgstr
});
