import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { requestAPI } from './request';

export { API_NAMESPACE, ContainerJobRequestError, requestAPI } from './request';

/**
 * Reply of the server extension's `GET /containerjob/version` route.
 */
export interface IVersionInfo {
  version: string;
}

/**
 * The containerjob JupyterLab plugin.
 *
 * For now it only checks that the server extension answers; the job sidebar
 * will hang off this plugin.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'containerjob:plugin',
  description:
    'Run notebook cells in containers: JupyterLab front end of containerjob.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    console.log('containerjob extension activated');

    requestAPI<IVersionInfo>('version', app.serviceManager.serverSettings)
      .then(data => {
        console.log(`containerjob server extension ${data.version}`);
      })
      .catch(reason => {
        console.error(
          'The containerjob server extension appears to be missing or failing.\n' +
            String(reason)
        );
      });
  }
};

export default plugin;
