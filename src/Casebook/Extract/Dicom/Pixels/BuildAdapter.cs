// Adapter for branch 'dicom': its Casebook.Cli/DicomCommands.cs uses the internal DicomVR.Kind, which does not compile
// without this. Remove once the reader exposes what the CLI needs.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Casebook.Cli")]
