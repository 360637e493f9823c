; Inno Setup 6 script of the Windows installer (https://jrsoftware.org/ishelp/).
; installer/build.py runs it after PyInstaller:
;   iscc /DAppVersion=0.1.0 /DSourceDir=build\pyinstaller\dist\stockscanner ^
;        /DOutputDir=dist /DOutputBase=stockscanner-0.1.0-windows-x86_64-setup installer\windows\stockscanner.iss
; It installs the PyInstaller folder per user (no administrator needed; Program Files when
; the user chooses "install for all users"), a Start menu entry for stockscanner.exe (the
; windowed app), stockscanner-cli.exe for the verbs in a terminal, and an uninstaller.
; The data folder (%LOCALAPPDATA%\StockScanner) is the user's and is kept on uninstall.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (installer/build.py does)
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\pyinstaller\dist\stockscanner"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef OutputBase
  #define OutputBase "stockscanner-" + AppVersion + "-windows-x86_64-setup"
#endif

[Setup]
; A fixed AppId: upgrades replace the installed version instead of adding a second one.
AppId={{7C1E2B6A-5B0E-4C7E-9A51-3F2D8E1B9C40}
AppName=Stock Scanner
AppVersion={#AppVersion}
AppVerName=Stock Scanner {#AppVersion}
AppPublisher=Stock Scanner
DefaultDirName={autopf}\Stock Scanner
DefaultGroupName=Stock Scanner
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename={#OutputBase}
SetupIconFile=..\..\resources\icons\stockscanner.ico
UninstallDisplayIcon={app}\stockscanner.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running Stock Scanner before files are replaced (Restart Manager).
CloseApplications=yes
RestartApplications=no
VersionInfoVersion={#AppVersion}
VersionInfoProductName=Stock Scanner

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder build: both executables and _internal\ (Python, Qt, the app).
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not leave modules of the previous version beside the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Stock Scanner"; Filename: "{app}\stockscanner.exe"
Name: "{autodesktop}\Stock Scanner"; Filename: "{app}\stockscanner.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\stockscanner.exe"; Description: "{cm:LaunchProgram,Stock Scanner}"; Flags: nowait postinstall skipifsilent
