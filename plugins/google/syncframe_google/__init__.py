"""syncframe_google: users from Google Workspace (Admin SDK Directory API), and its simulator."""
