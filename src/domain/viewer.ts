/** The signed-in user on whose behalf an operation runs. */
export interface Viewer {
  readonly id: string;
  readonly username: string;
}
